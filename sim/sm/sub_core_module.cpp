#include "sm/sub_core.h"

#include <algorithm>

#include "common/error.h"
#include "sm/sm_module.h"

namespace stcsim {

namespace {

std::int64_t slot_time(const Warp& w, int s) {
  if (s < 0) return 0;
  const auto i = static_cast<std::size_t>(s);
  if (i >= w.pending.size()) throw Error("sub-core: a warp instruction names a scoreboard slot past its warp's");
  return w.pending[i] > 0 ? kNever : w.ready[i];
}

}  // namespace

std::string_view warp_state_name(WarpState s) {
  switch (s) {
    case WarpState::selected: return "selected";
    case WarpState::not_selected: return "not_selected";
    case WarpState::long_scoreboard: return "long_scoreboard";
    case WarpState::short_scoreboard: return "short_scoreboard";
    case WarpState::wait: return "wait";
    case WarpState::barrier: return "barrier";
    case WarpState::mio_throttle: return "mio_throttle";
    case WarpState::math_pipe_throttle: return "math_pipe_throttle";
    case WarpState::lg_throttle: return "lg_throttle";
  }
  return "?";
}

SubCore::SubCore(const sc_core::sc_module_name& name, int issue_width, sc_core::sc_fifo<MmaPacket>& math,
                 sc_core::sc_fifo<SmemRequest>& mio, std::function<void(std::exception_ptr)> fail)
    : sc_core::sc_module(name), issue_width_(issue_width), math_(math), mio_(mio), fail_(std::move(fail)) {
  if (issue_width < 1) throw Error("sub-core: issue width must be >= 1");
  SC_THREAD(run);
}

void SubCore::add_warp(std::unique_ptr<Warp> w) {
  w->id = next_id_++;
  w->joined = sim_cycle_now();
  by_id_[w->id] = w.get();
  warps_.push_back(std::move(w));
  wake();
}

void SubCore::slot_done(int warp, int slot, std::int64_t at) {
  const auto it = by_id_.find(warp);
  if (it == by_id_.end()) throw Error("sub-core: a completion for a warp that is not resident");
  Warp& w = *it->second;
  const auto i = static_cast<std::size_t>(slot);
  if (i >= w.pending.size() || w.pending[i] <= 0) throw Error("sub-core: a completion for a slot with no write in flight");
  --w.pending[i];
  w.ready[i] = std::max(w.ready[i], at);
  if (slot < w.program.accumulators()) {
    --w.acc_pending;
    w.acc_ready = std::max(w.acc_ready, at);
  }
  if (at < sleep_until_) wake();
}

void SubCore::add_to_waveform(sc_core::sc_trace_file* tf) const {
  const std::string base = name();
  sc_core::sc_trace(tf, issued_total_, base + ".issued");
}

WarpState SubCore::evaluate(Warp& w, std::int64_t now, std::int64_t& when) {
  when = 0;
  WarpState why = WarpState::selected;
  const auto need = [&](std::int64_t at, WarpState s) {
    if (at > now && why == WarpState::selected) why = s;
    when = std::max(when, at);
  };
  const auto need_slot = [&](int slot) {
    if (slot < 0) return;
    // Accumulators and commit groups come from the tensor core; the rest from shared memory.
    const bool math = slot < w.program.accumulators() + 2;
    need(slot_time(w, slot), math ? WarpState::wait : WarpState::short_scoreboard);
  };
  const WarpOp* op = w.program.peek();
  if (op == nullptr) return WarpState::selected;
  switch (op->kind) {
    case WarpOpKind::copy:
      need(w.cta->buffer_free_at(op->kb), WarpState::barrier);
      if (why == WarpState::selected) need(w.cta->copy_admit_at(op->kb), WarpState::lg_throttle);
      break;
    case WarpOpKind::wait_tiles:
      need(w.cta->tiles_ready_at(op->kb), WarpState::long_scoreboard);
      break;
    case WarpOpKind::smem_read:
    case WarpOpKind::smem_write:
      need_slot(op->src[0]);
      if (op->all_acc) need(w.acc_pending > 0 ? kNever : w.acc_ready, WarpState::wait);
      if (why == WarpState::selected && mio_.num_free() == 0) {
        why = WarpState::mio_throttle;
        when = kNever;
      }
      break;
    case WarpOpKind::mma:
      need_slot(op->src[0]);
      need_slot(op->src[1]);
      need_slot(op->dst);
      if (why == WarpState::selected && math_.num_free() == 0) {
        why = WarpState::math_pipe_throttle;
        when = kNever;
      }
      break;
    case WarpOpKind::release:
    case WarpOpKind::finish:
      need_slot(op->src[0]);
      break;
    case WarpOpKind::barrier:
      need_slot(op->src[0]);
      if (why == WarpState::selected) {
        if (!w.at_barrier) {
          w.at_barrier = true;
          w.cta->arrive();
        }
        if (!w.cta->barrier_open()) {
          why = WarpState::barrier;
          when = kNever;
        }
      }
      break;
  }
  if (why == WarpState::selected) when = now;
  return why;
}

void SubCore::issue(Warp& w) {
  const WarpOp& op = *w.program.peek();
  const auto write = [&](int slot) {
    if (slot < 0) return;
    ++w.pending[static_cast<std::size_t>(slot)];
    if (slot < w.program.accumulators()) ++w.acc_pending;
  };
  switch (op.kind) {
    case WarpOpKind::copy:
      w.cta->copy_issued(op.kb);
      break;
    case WarpOpKind::wait_tiles:
      break;
    case WarpOpKind::smem_read:
    case WarpOpKind::smem_write:
      if (op.all_acc && w.lead) w.cta->epilogue_began(w);
      write(op.dst);
      if (!mio_.nb_write({op.bytes, op.kind == WarpOpKind::smem_write, this, w.id, op.dst, op.ways})) {
        throw Error("sub-core: the MIO queue refused an access it had room for");
      }
      break;
    case WarpOpKind::mma: {
      const MmaPacket* proto = op.sparse ? w.sparse : w.dense;
      if (proto == nullptr) throw Error("sub-core: an MMA of a kind the launch has no instruction for");
      MmaPacket p = *proto;
      p.a_reused = op.a_reused;
      p.smem_bytes = op.bytes;
      p.counted = w.counts_mmas;
      p.sink = this;
      p.warp = w.id;
      p.dst = op.dst;
      p.group = op.group;
      p.seq = seq_++;
      if (w.values != nullptr) {
        p.values = w.values;
        p.pos = w.pos;
        p.work = &w.program.work();
        p.tile = op.tile;
        p.step = op.step;
        p.kb = op.kb;
      }
      write(op.dst);
      write(op.group);
      if (!math_.nb_write(p)) throw Error("sub-core: the math queue refused an MMA it had room for");
      break;
    }
    case WarpOpKind::release:
      w.cta->released(op.kb);
      break;
    case WarpOpKind::barrier:
      w.at_barrier = false;
      break;
    case WarpOpKind::finish:
      w.done = true;
      w.cta->warp_finished(w);
      break;
  }
  w.program.next();
  ++stats_.issued;
  ++issued_total_;
}

void SubCore::charge(std::int64_t now) {
  if (warps_.empty()) return;
  std::int64_t any = 0;
  for (const auto& w : warps_) {
    const std::int64_t from = std::max(last_eval_, w->joined);
    if (now <= from) continue;
    const auto dt = static_cast<std::uint64_t>(now - from);
    const auto s = static_cast<std::size_t>(w->state);
    w->state_cycles[s] += dt;
    stats_.warp_cycles[s] += dt;
    any = std::max(any, now - from);
  }
  stats_.active_cycles += static_cast<std::uint64_t>(any);
}

void SubCore::run() {
  try {
    schedule();
  } catch (...) {
    fail_(std::current_exception());
  }
}

void SubCore::schedule() {
  sc_core::sc_event_or_list& any = any_;
  any |= wake_;
  any |= math_.data_read_event();
  any |= mio_.data_read_event();
  const sc_core::sc_time cycle(1, sc_core::SC_NS);
  last_eval_ = sim_cycle_now();
  for (;;) {
    const std::int64_t now = sim_cycle_now();
    charge(now);
    last_eval_ = now;
    int issued = 0;
    std::int64_t earliest = kNever;
    const auto consider = [&](Warp& w) {
      if (w.done) return;
      std::int64_t when = kNever;
      const WarpState st = evaluate(w, now, when);
      if (st == WarpState::selected) {
        if (w.program.peek() == nullptr) {
          w.done = true;  // a producer warp with nothing left
          return;
        }
        if (issued < issue_width_) {
          issue(w);
          ++issued;
          greedy_ = w.id;
          w.state = WarpState::selected;
        } else {
          w.state = WarpState::not_selected;
          earliest = std::min(earliest, now + 1);
        }
        return;
      }
      w.state = st;
      earliest = std::min(earliest, when);
    };
    const auto g = by_id_.find(greedy_);
    Warp* first = g == by_id_.end() ? nullptr : g->second;
    if (first != nullptr) consider(*first);
    for (const auto& w : warps_) {
      if (w.get() != first) consider(*w);
    }
    // Warps that ended leave the sub-core.
    for (auto it = warps_.begin(); it != warps_.end();) {
      if ((*it)->done) {
        by_id_.erase((*it)->id);
        it = warps_.erase(it);
      } else {
        ++it;
      }
    }
    if (issued > 0) {
      ++stats_.issue_cycles;
      sleep_until_ = now + 1;
      sc_core::wait(cycle);
    } else if (warps_.empty()) {
      sleep_until_ = kNever;
      sc_core::wait(wake_);
    } else if (earliest != kNever && earliest > now) {
      sleep_until_ = earliest;
      sc_core::wait(cycle * static_cast<double>(earliest - now), any);
    } else {
      sleep_until_ = kNever;
      sc_core::wait(any);
    }
    sleep_until_ = -1;
  }
}

}  // namespace stcsim
