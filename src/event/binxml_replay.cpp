// Replay of template instances (see the header's "Replay" comment): recording what
// interpreting a template's ops wrote for one record, and writing the next records of that
// template from the recording.
//
// A recording notes, as the ops run, where each value's text went (and each nested fragment's
// text and steps). Everything else the ops wrote is literal: the text between values, and the
// steps, whose positions are then stored as distances from the start of the piece of text they
// point into. A replay writes the pieces in order (literal text copied, values formatted,
// nested fragments rendered, each the way Interpret would), and adds the steps with the
// pieces' new starts. A content value's text step is added only when its text is not empty,
// which is all that an empty value changes in outline-only text.
#include "event/binxml.hpp"

#include <algorithm>
#include <cstring>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace yagura::event::binxml {

bool ChunkRenderer::Execute(const Compiled& code, size_t values_begin, size_t values_end,
                            int nesting) {
  if (!replay_ || !compact_ || outline_ == nullptr) {
    return Interpret(code, values_begin, values_end, nesting);
  }
  size_t variants = 0;
  if (const Trace* trace = FindTrace(code, values_begin, values_end, variants)) {
    if (trace->usable) {
      const RenderState state = SaveState();
      if (Replay(static_cast<uint32_t>(trace - traces_.data()), values_begin, nesting)) {
        saved_elements_.resize(state.saved_elements);
        ++instances_replayed_;
        return true;
      }
      RestoreState(state);
      ++replays_abandoned_;
    }
    return Interpret(code, values_begin, values_end, nesting);
  }
  if (variants >= TRACES_PER_TEMPLATE || traces_.size() >= KEPT_TRACES ||
      trace_steps_.size() >= KEPT_TRACE_STEPS || trace_text_.size() >= KEPT_TRACE_TEXT) {
    return Interpret(code, values_begin, values_end, nesting);
  }
  return InterpretRecording(code, values_begin, values_end, nesting);
}

namespace {

// Whether the `count` value descriptors at `descriptors` (four bytes each, the type third) have
// the types in `types` (each type shifted to the third byte of a word).
bool SameTypes(const uint8_t* descriptors, const uint32_t* types, size_t count) {
  size_t i = 0;
#if defined(__AVX2__)
  const __m256i type_bytes = _mm256_set1_epi32(0xff0000);
  for (; i + 8 <= count; i += 8) {
    const __m256i read = _mm256_and_si256(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(descriptors + 4 * i)), type_bytes);
    const __m256i recorded = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(types + i));
    if (_mm256_movemask_epi8(_mm256_cmpeq_epi32(read, recorded)) != -1) return false;
  }
#endif
  for (; i < count; ++i) {
    uint32_t descriptor;
    std::memcpy(&descriptor, descriptors + 4 * i, 4);
    if ((descriptor & 0xff0000) != types[i]) return false;
  }
  return true;
}

}  // namespace

const ChunkRenderer::Trace* ChunkRenderer::FindTrace(const Compiled& code, size_t values_begin,
                                                     size_t values_end, size_t& variants) const {
  if (trace_slots_.empty()) return nullptr;
  const size_t depth = elements_.size();
  const uint8_t entry_flags = EntryFlags();
  for (uint32_t t = trace_slots_[code.first_op % TRACE_SLOTS]; t != NO_TRACE;
       t = traces_[t].next) {
    const Trace& trace = traces_[t];
    if (trace.first_op != code.first_op || trace.op_count != code.op_count) continue;
    ++variants;
    if (trace.value_count != values_end - values_begin || trace.depth != depth ||
        trace.entry_flags != entry_flags) {
      continue;
    }
    if (!SameTypes(instance_descriptors_, trace_types_.data() + trace.types_begin,
                   trace.value_count)) {
      continue;
    }
    return &trace;
  }
  return nullptr;
}

ChunkRenderer::RenderState ChunkRenderer::SaveState() {
  RenderState state;
  state.out = out_->size();
  state.outline = outline_->size();
  state.values = values_.size();
  state.work = work_;
  state.min_depth = min_depth_;
  state.piece_at = piece_at_.size();
  state.step_at = step_at_.size();
  state.depth = elements_.size();
  state.saved_elements = saved_elements_.size();
  for (size_t d = 0; d < state.depth; ++d) saved_elements_.push_back(elements_.at(d));
  state.outline_valid = outline_valid_;
  state.shape_keyed = shape_keyed_;
  return state;
}

void ChunkRenderer::RestoreState(const RenderState& state) {
  out_->Truncate(state.out);
  outline_->resize(state.outline);
  shape_words_.resize(state.outline);
  values_.resize(state.values);
  work_ = state.work;
  min_depth_ = state.min_depth;
  piece_at_.resize(state.piece_at);
  step_at_.resize(state.step_at);
  elements_.clear();
  for (size_t d = 0; d < state.depth; ++d) {
    elements_.push() = saved_elements_[state.saved_elements + d];
  }
  saved_elements_.resize(state.saved_elements);
  outline_valid_ = state.outline_valid;
  shape_keyed_ = state.shape_keyed;
  in_start_tag_ = false;
  in_attribute_ = false;
  attribute_written_ = false;
  attribute_omitted_ = false;
  attribute_pieces_ = 0;
  dropping_ = false;
  over_limit_ = false;
  error_ = "";
}

bool ChunkRenderer::Replay(uint32_t index, size_t values_begin, int nesting) {
  const Trace trace = traces_[index];  // a copy: a nested fragment's recording may move traces_
  const size_t pieces = trace.pieces_end - trace.pieces_begin;
  const size_t piece_base = piece_at_.size();
  piece_at_.resize(piece_base + pieces + 1);  // each piece's start, then the end
  const size_t step_base = step_at_.size();
  if (trace.calls_end != trace.calls_begin) {
    step_at_.resize(step_base + (trace.steps_end - trace.steps_begin));
  }
  uint32_t step = trace.steps_begin;
  uint32_t move = trace.moves_begin;
  for (size_t j = 0; j < pieces; ++j) {
    const TracePiece piece = trace_pieces_[trace.pieces_begin + j];
    const size_t begin = out_->size();
    piece_at_[piece_base + j] = begin;
    switch (piece.kind) {
      case PieceKind::kLiteral:
        out_->Append(trace_text_.data() + piece.text, piece.length);
        break;
      case PieceKind::kContent: {
        const Value value = values_[values_begin + piece.index];
        if (!AppendValue(value.type, chunk_ + value.offset, value.size, true, *out_)) return false;
        if (value.type == kAnsiStringType &&
            std::memchr(out_->data() + begin, '<', out_->size() - begin) != nullptr) {
          OutlineUnreadable();
        }
        break;
      }
      case PieceKind::kAttributeValue: {
        const Value value = values_[values_begin + piece.index];
        if (value.size == 0) return false;
        if (!AppendValue(value.type, chunk_ + value.offset, value.size, false, *out_)) return false;
        if (std::memchr(out_->data() + begin, '"', out_->size() - begin) != nullptr) {
          OutlineUnreadable();
        }
        break;
      }
      case PieceKind::kNested: {
        const TraceCall call = trace_calls_[piece.text];
        AddReplayedSteps(trace, step, call.steps_end, move, call.moves_end, piece_base, step_base);
        step = call.steps_end;
        move = call.moves_end;
        work_ += call.work;
        if (work_ > MAX_WORK || out_->size() > output_limit_) return false;
        // The elements the ops have open at this point, as Interpret would have them.
        elements_.truncate(trace.depth);
        for (uint32_t e = call.elements_begin; e < call.elements_end; ++e) {
          const TraceElement& traced = trace_elements_[e];
          Element& element = elements_.push();
          element = traced.element;
          element.content_mark += piece_at_[piece_base + traced.content_piece];
          element.tag_offset += piece_at_[piece_base + traced.tag_piece];
          element.outline_mark = step_at_[step_base + traced.outline_step];
        }
        const Value value = values_[values_begin + piece.index];
        const size_t depth = elements_.size();
        const size_t min_before = min_depth_;
        min_depth_ = depth;
        const bool ok = RenderFragment(value.offset, value.offset + value.size, nesting + 1);
        const bool as_recorded = ok && min_depth_ >= depth && elements_.size() == depth &&
                                 ElementFlags(elements_.back()) == call.flags_after;
        min_depth_ = std::min(min_before, min_depth_);
        if (!as_recorded) return false;
        break;
      }
    }
  }
  piece_at_[piece_base + pieces] = out_->size();
  AddReplayedSteps(trace, step, trace.steps_end, move, trace.moves_end, piece_base, step_base);
  work_ += trace.work;
  if (work_ > MAX_WORK || out_->size() > output_limit_) return false;
  elements_.truncate(trace.depth);
  if (trace.depth > 0) SetElementFlags(elements_.back(), trace.exit_flags);
  min_depth_ = std::min(min_depth_, size_t{trace.depth});
  if (trace.unkeyed) shape_keyed_ = false;
  piece_at_.resize(piece_base);
  step_at_.resize(step_base);
  return true;
}

void ChunkRenderer::AddReplayedSteps(const Trace& trace, uint32_t from, uint32_t to,
                                     uint32_t moves_from, uint32_t moves_to, size_t piece_base,
                                     size_t step_base) {
  if (from == to) return;
  // Copied as recorded, then the moved ones moved: most steps of a record are moved, but
  // copying in blocks and moving in place costs a third of building each step.
  const size_t first = outline_->size();
  const size_t count = to - from;
  outline_->insert(outline_->end(), trace_steps_.data() + from, trace_steps_.data() + to);
  shape_words_.insert(shape_words_.end(), trace_words_.data() + from, trace_words_.data() + to);
  OutlineStep* const steps = outline_->data() + first;
  const size_t* const at = piece_at_.data() + piece_base;
  // The text steps of content values empty this time, which go (few: up to GONE_AT_ONCE are
  // taken out at once, the rest one by one).
  static constexpr size_t GONE_AT_ONCE = 16;
  uint32_t gone[GONE_AT_ONCE];
  size_t gone_count = 0;
  for (uint32_t m = moves_from; m < moves_to; ++m) {
    const TraceMove move = trace_moves_[m];
    OutlineStep& step = steps[move.step - from];
    const auto start = static_cast<uint32_t>(at[move.piece]);
    if ((move.moves & MOVE_NAME) != 0) step.name += start;
    if ((move.moves & MOVE_VALUE) != 0) step.value += start;
    if ((move.moves & LENGTH_OF_PIECE) != 0) {
      step.value_length = static_cast<uint32_t>(at[move.piece + 1]) - start;
      if ((move.moves & ONLY_IF_NOT_EMPTY) != 0 && step.value_length == 0) {
        if (gone_count < GONE_AT_ONCE) gone[gone_count] = move.step - from;
        ++gone_count;
      }
    }
  }
  uint32_t* const places =
      trace.calls_end != trace.calls_begin ? step_at_.data() + step_base + (from - trace.steps_begin)
                                           : nullptr;
  if (gone_count == 0) {
    if (places != nullptr) {
      for (size_t k = 0; k < count; ++k) places[k] = static_cast<uint32_t>(first + k);
    }
    return;
  }
  uint64_t* const words = shape_words_.data() + first;
  if (gone_count > GONE_AT_ONCE) {
    size_t written = 0;
    uint32_t m = moves_from;
    for (size_t k = 0; k < count; ++k) {
      if (places != nullptr) places[k] = static_cast<uint32_t>(first + written);
      while (m < moves_to && trace_moves_[m].step < from + k) ++m;
      if (m < moves_to && trace_moves_[m].step == from + k &&
          (trace_moves_[m].moves & ONLY_IF_NOT_EMPTY) != 0 && steps[k].value_length == 0) {
        continue;
      }
      steps[written] = steps[k];
      words[written] = words[k];
      ++written;
    }
    outline_->resize(first + written);
    shape_words_.resize(first + written);
    return;
  }
  // The stretches between the steps that go, moved down over them.
  size_t written = gone[0];
  if (places != nullptr) {
    for (size_t k = 0; k <= gone[0]; ++k) places[k] = static_cast<uint32_t>(first + k);
  }
  for (size_t g = 0; g < gone_count; ++g) {
    const size_t begin = gone[g] + 1;
    const size_t end = g + 1 < gone_count ? gone[g + 1] : count;
    std::memmove(steps + written, steps + begin, (end - begin) * sizeof(OutlineStep));
    std::memmove(words + written, words + begin, (end - begin) * sizeof(uint64_t));
    if (places != nullptr) {
      // A step that goes has the place of the step after it.
      for (size_t k = begin; k < end || (k == end && end < count); ++k) {
        places[k] = static_cast<uint32_t>(first + written + (k - begin));
      }
    }
    written += end - begin;
  }
  outline_->resize(first + written);
  shape_words_.resize(first + written);
}

bool ChunkRenderer::InterpretRecording(const Compiled& code, size_t values_begin,
                                       size_t values_end, int nesting) {
  Recording recording{out_->size(), outline_->size(), work_, elements_.size(),
                      recording_marks_.size(), recording_elements_.size()};
  const uint8_t entry_flags = EntryFlags();
  Recording* const outer = recording_;
  recording_ = &recording;
  const size_t min_before = min_depth_;
  min_depth_ = recording.depth;
  const bool ok = Interpret(code, values_begin, values_end, nesting);
  recording_ = outer;
  const bool balanced = min_depth_ >= recording.depth && elements_.size() == recording.depth;
  min_depth_ = std::min(min_before, min_depth_);
  // A record whose outline is dropped is written again as XML, and that writes no trace: a
  // recording is kept only from an outline that stands.
  if (ok && outline_valid_) {
    StoreTrace(code, values_begin, values_end, recording, entry_flags, recording.ok && balanced);
  }
  recording_marks_.resize(recording.marks_begin);
  recording_elements_.resize(recording.elements_begin);
  return ok;
}

void ChunkRenderer::RecordValue(PieceKind kind, uint16_t index, size_t begin, size_t end,
                                size_t step_at) {
  // A value in the content of an element the ops did not open sets that element's state by
  // whether it is empty: not repeatable from the recording alone.
  if (kind == PieceKind::kContent && elements_.size() <= recording_->depth) recording_->ok = false;
  TraceMark mark{kind, index};
  mark.begin = begin;
  mark.end = end;
  mark.step_at = step_at;
  recording_marks_.push_back(mark);
}

bool ChunkRenderer::RecordNested(uint16_t index, const Value& value, int nesting) {
  Recording* const recording = recording_;
  // (Copied now: rendering the fragment adds values and may move `value`.)
  const uint32_t offset = value.offset;
  const uint32_t size = value.size;
  TraceMark mark{PieceKind::kNested, index};
  mark.begin = out_->size();
  mark.step_at = outline_->size();
  mark.work_begin = work_;
  mark.elements_begin = recording_elements_.size();
  const size_t depth = elements_.size();
  for (size_t d = recording->depth; d < depth; ++d) recording_elements_.push_back(elements_.at(d));
  mark.elements_end = recording_elements_.size();
  const size_t min_before = min_depth_;
  min_depth_ = depth;
  recording_ = nullptr;  // the fragment's own ops record for themselves
  const bool ok = RenderFragment(offset, offset + size, nesting + 1);
  recording_ = recording;
  // A replay puts back only the elements this template opened, so a fragment placed directly
  // in the parent, or one that closes elements it did not open, is not replayed.
  if (depth <= recording->depth || min_depth_ < depth || elements_.size() != depth) {
    recording->ok = false;
  }
  min_depth_ = std::min(min_before, min_depth_);
  if (!ok) return false;
  mark.end = out_->size();
  mark.outline_end = outline_->size();
  mark.work_end = work_;
  mark.flags_after = elements_.empty() ? 0 : ElementFlags(elements_.back());
  recording_marks_.push_back(mark);
  return true;
}

void ChunkRenderer::StoreTrace(const Compiled& code, size_t values_begin, size_t values_end,
                               const Recording& recording, uint8_t entry_flags, bool usable) {
  if (trace_slots_.empty()) trace_slots_.assign(TRACE_SLOTS, NO_TRACE);
  Trace trace;
  trace.first_op = code.first_op;
  trace.op_count = code.op_count;
  trace.value_count = static_cast<uint32_t>(values_end - values_begin);
  trace.depth = static_cast<uint32_t>(recording.depth);
  trace.entry_flags = entry_flags;
  trace.exit_flags = recording.depth > 0 ? ElementFlags(elements_.back()) : 0;
  trace.types_begin = static_cast<uint32_t>(trace_types_.size());
  for (size_t v = values_begin; v < values_end; ++v) {
    trace_types_.push_back(uint32_t{values_[v].type} << 16);
  }
  const size_t pieces_begin = trace_pieces_.size();
  const size_t steps_begin = trace_steps_.size();
  const size_t moves_begin = trace_moves_.size();
  const size_t calls_begin = trace_calls_.size();
  const size_t elements_begin = trace_elements_.size();
  const size_t text_begin = trace_text_.size();
  trace.pieces_begin = trace.pieces_end = static_cast<uint32_t>(pieces_begin);
  trace.steps_begin = trace.steps_end = static_cast<uint32_t>(steps_begin);
  trace.moves_begin = trace.moves_end = static_cast<uint32_t>(moves_begin);
  trace.calls_begin = trace.calls_end = static_cast<uint32_t>(calls_begin);
  if (!usable || !BuildTrace(trace, recording)) {
    // Kept all the same, so that instances with these types are not recorded again.
    trace_pieces_.resize(pieces_begin);
    trace_steps_.resize(steps_begin);
    trace_words_.resize(steps_begin);
    trace_moves_.resize(moves_begin);
    trace_calls_.resize(calls_begin);
    trace_elements_.resize(elements_begin);
    trace_text_.Truncate(text_begin);
    trace.pieces_end = trace.pieces_begin;
    trace.steps_end = trace.steps_begin;
    trace.moves_end = trace.moves_begin;
    trace.calls_end = trace.calls_begin;
    trace.usable = false;
  }
  const size_t slot = code.first_op % TRACE_SLOTS;
  trace.next = trace_slots_[slot];
  trace_slots_[slot] = static_cast<uint32_t>(traces_.size());
  traces_.push_back(trace);
}

bool ChunkRenderer::BuildTrace(Trace& trace, const Recording& recording) {
  const size_t out_end = out_->size();
  const size_t outline_begin = recording.outline_begin;
  const size_t outline_end = outline_->size();
  const char* const text = out_->data();
  const size_t marks_begin = recording.marks_begin;
  const size_t marks_end = recording_marks_.size();

  // The pieces, with where each started in the recorded text.
  std::vector<size_t> starts;
  std::vector<uint16_t> piece_of_mark(marks_end - marks_begin, NO_PIECE);
  size_t pos = recording.out_begin;
  auto add_literal = [&](size_t end) {
    if (end <= pos) return;
    trace_pieces_.push_back(TracePiece{PieceKind::kLiteral, 0,
                                       static_cast<uint32_t>(trace_text_.size()),
                                       static_cast<uint32_t>(end - pos)});
    trace_text_.Append(text + pos, end - pos);
    starts.push_back(pos);
  };
  for (size_t m = marks_begin; m < marks_end; ++m) {
    const TraceMark& mark = recording_marks_[m];
    if (mark.begin < pos || mark.end < mark.begin) return false;
    add_literal(mark.begin);
    piece_of_mark[m - marks_begin] = static_cast<uint16_t>(starts.size());
    TracePiece piece{mark.kind, mark.index};
    if (mark.kind == PieceKind::kNested) {
      piece.text = static_cast<uint32_t>(trace_calls_.size());
      trace_calls_.push_back(TraceCall{});
    }
    trace_pieces_.push_back(piece);
    starts.push_back(mark.begin);
    pos = mark.end;
    if (starts.size() >= NO_PIECE) return false;
  }
  add_literal(out_end);
  const size_t pieces = starts.size();
  if (pieces >= NO_PIECE) return false;
  starts.push_back(out_end);
  trace.pieces_end = static_cast<uint32_t>(trace_pieces_.size());
  auto kind_of = [&](size_t j) { return trace_pieces_[trace.pieces_begin + j].kind; };

  // [p, p + length) inside a literal piece: that piece (the later one where two meet at p, as
  // where an empty value lay between them, the text at p follows the value) and the offset.
  auto in_literal = [&](size_t p, size_t length, uint16_t& piece, uint32_t& offset) {
    for (size_t j = pieces; j-- > 0;) {
      if (kind_of(j) != PieceKind::kLiteral) continue;
      if (starts[j] <= p && p + length <= starts[j + 1]) {
        piece = static_cast<uint16_t>(j);
        offset = static_cast<uint32_t>(p - starts[j]);
        return true;
      }
    }
    return false;
  };
  // The attribute value piece that starts at p.
  auto attribute_value_at = [&](size_t p, size_t length) -> uint16_t {
    for (size_t j = 0; j < pieces; ++j) {
      if (kind_of(j) == PieceKind::kAttributeValue && starts[j] == p &&
          starts[j + 1] - starts[j] == length) {
        return static_cast<uint16_t>(j);
      }
    }
    return NO_PIECE;
  };

  // A step whose name lies at `name_offset` from the start of piece `name_piece` and whose
  // value at `value_offset` from `value_piece` (NO_PIECE: as recorded), moved by one piece:
  // the value's, since its length may be the piece's. The name is then stored as an offset
  // from that piece, which is fixed only if nothing between the two varies in length.
  auto add_step = [&](const OutlineStep& recorded, uint64_t word, uint16_t name_piece,
                      uint32_t name_offset, uint16_t value_piece, uint32_t value_offset,
                      uint8_t moves) {
    OutlineStep step = recorded;
    const uint16_t piece = value_piece != NO_PIECE ? value_piece : name_piece;
    if (piece != NO_PIECE) {
      if (name_piece != NO_PIECE) {
        if (name_piece > piece) return false;
        for (size_t j = name_piece; j < piece; ++j) {
          if (kind_of(j) != PieceKind::kLiteral) return false;
        }
        step.name = name_offset + static_cast<uint32_t>(starts[name_piece] - starts[piece]);
        moves |= MOVE_NAME;
      }
      if (value_piece != NO_PIECE) {
        step.value = value_offset;
        moves |= MOVE_VALUE;
      }
      trace_moves_.push_back(
          TraceMove{static_cast<uint32_t>(trace_steps_.size()), piece, moves});
    }
    trace_steps_.push_back(step);
    trace_words_.push_back(word);
    return true;
  };

  // The steps, in order: recorded ones moved to their pieces, content values' text steps made
  // conditional, nested fragments' steps left to the fragments.
  std::vector<uint32_t> trace_step_of(outline_end - outline_begin + 1, UINT32_MAX);
  size_t i = outline_begin;
  auto add_recorded = [&](size_t until) {
    for (; i < until; ++i) {
      const OutlineStep recorded = (*outline_)[i];
      trace_step_of[i - outline_begin] = static_cast<uint32_t>(trace_steps_.size() - trace.steps_begin);
      uint16_t name_piece = NO_PIECE, value_piece = NO_PIECE;
      uint32_t name_offset = 0, value_offset = 0;
      uint8_t moves = 0;
      switch (recorded.kind) {
        case OutlineStep::kOpen:
          if (!in_literal(recorded.name, recorded.name_length, name_piece, name_offset)) {
            return false;
          }
          break;
        case OutlineStep::kAttribute:
          if (!in_literal(recorded.name, recorded.name_length, name_piece, name_offset)) {
            return false;
          }
          value_piece = attribute_value_at(recorded.value, recorded.value_length);
          if (value_piece != NO_PIECE) {
            moves = LENGTH_OF_PIECE;
          } else if (!in_literal(recorded.value, recorded.value_length, value_piece,
                                 value_offset)) {
            return false;
          }
          break;
        case OutlineStep::kText:
          if (!in_literal(recorded.value, recorded.value_length, value_piece, value_offset)) {
            return false;
          }
          break;
        case OutlineStep::kClose:
          break;
        default:
          return false;
      }
      if (!add_step(recorded, shape_words_[i], name_piece, name_offset, value_piece,
                    value_offset, moves)) {
        return false;
      }
    }
    return true;
  };
  size_t work_since = recording.work_begin;
  for (size_t m = marks_begin; m < marks_end; ++m) {
    const TraceMark& mark = recording_marks_[m];
    const uint16_t piece = piece_of_mark[m - marks_begin];
    if (mark.kind == PieceKind::kContent) {
      if (mark.step_at < i || !add_recorded(mark.step_at)) return false;
      const OutlineStep text_step{OutlineStep::kText, 0, 0, 0, 0, 0};
      const uint64_t text_word = KindWord(OutlineStep::kText);
      if (mark.end > mark.begin) {
        // Its text step, recorded: CloseText adds it right after the value.
        if (i >= outline_end) return false;
        const OutlineStep recorded = (*outline_)[i];
        if (recorded.kind != OutlineStep::kText || recorded.value != mark.begin ||
            recorded.value_length != mark.end - mark.begin || shape_words_[i] != text_word) {
          return false;
        }
        trace_step_of[i - outline_begin] = static_cast<uint32_t>(trace_steps_.size() - trace.steps_begin);
        ++i;
      }
      add_step(text_step, text_word, NO_PIECE, 0, piece, 0, LENGTH_OF_PIECE | ONLY_IF_NOT_EMPTY);
    } else if (mark.kind == PieceKind::kNested) {
      if (mark.step_at < i || !add_recorded(mark.step_at)) return false;
      TraceCall& call = trace_calls_[trace_pieces_[trace.pieces_begin + piece].text];
      call.steps_end = static_cast<uint32_t>(trace_steps_.size());
      call.moves_end = static_cast<uint32_t>(trace_moves_.size());
      call.work = static_cast<uint32_t>(mark.work_begin - work_since);
      work_since = mark.work_end;
      call.flags_after = mark.flags_after;
      call.elements_begin = static_cast<uint32_t>(trace_elements_.size());
      for (size_t e = mark.elements_begin; e < mark.elements_end; ++e) {
        TraceElement traced{recording_elements_[e], NO_PIECE, NO_PIECE, 0};
        uint32_t offset = 0;
        if (!in_literal(traced.element.content_mark, 0, traced.content_piece, offset)) return false;
        traced.element.content_mark = offset;
        if (!in_literal(traced.element.tag_offset, 0, traced.tag_piece, offset)) return false;
        traced.element.tag_offset = offset;
        const size_t mark_at = traced.element.outline_mark;
        if (mark_at < outline_begin || mark_at >= mark.step_at ||
            trace_step_of[mark_at - outline_begin] == UINT32_MAX) {
          return false;
        }
        traced.outline_step = trace_step_of[mark_at - outline_begin];
        trace_elements_.push_back(traced);
      }
      call.elements_end = static_cast<uint32_t>(trace_elements_.size());
      i = mark.outline_end;
    }
  }
  if (!add_recorded(outline_end)) return false;
  for (size_t k = trace.steps_begin; k < trace_steps_.size(); ++k) {
    if (trace_words_[k] == 0) trace.unkeyed = true;
  }
  trace.steps_end = static_cast<uint32_t>(trace_steps_.size());
  trace.moves_end = static_cast<uint32_t>(trace_moves_.size());
  trace.calls_end = static_cast<uint32_t>(trace_calls_.size());
  trace.work = static_cast<uint32_t>(work_ - work_since);
  return true;
}

void ChunkRenderer::ClearTraces() {
  std::fill(trace_slots_.begin(), trace_slots_.end(), NO_TRACE);
  traces_.clear();
  trace_pieces_.clear();
  trace_steps_.clear();
  trace_words_.clear();
  trace_moves_.clear();
  trace_calls_.clear();
  trace_elements_.clear();
  trace_types_.clear();
  trace_text_.Clear();
}

size_t ChunkRenderer::TraceFootprint() const {
  return trace_slots_.capacity() * sizeof(uint32_t) + traces_.capacity() * sizeof(Trace) +
         trace_pieces_.capacity() * sizeof(TracePiece) +
         trace_steps_.capacity() * sizeof(OutlineStep) +
         trace_words_.capacity() * sizeof(uint64_t) + trace_moves_.capacity() * sizeof(TraceMove) +
         trace_calls_.capacity() * sizeof(TraceCall) +
         trace_elements_.capacity() * sizeof(TraceElement) +
         trace_types_.capacity() * sizeof(uint32_t) + trace_text_.capacity() +
         piece_at_.capacity() * sizeof(size_t) + step_at_.capacity() * sizeof(uint32_t) +
         saved_elements_.capacity() * sizeof(Element) +
         recording_marks_.capacity() * sizeof(TraceMark) +
         recording_elements_.capacity() * sizeof(Element);
}

}  // namespace yagura::event::binxml
