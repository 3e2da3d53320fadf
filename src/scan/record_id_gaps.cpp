// RecordIdGaps (see record_id_gaps.hpp).
#include "scan/record_id_gaps.hpp"

#include <algorithm>
#include <iterator>

namespace yagura::scan {

void RecordIdGaps::Add(std::string_view file, std::string_view channel, std::string_view computer,
                       uint64_t id, std::optional<int64_t> time_ms) {
  if (last_numbering_ == nullptr || std::get<0>(last_key_) != file ||
      std::get<1>(last_key_) != channel || std::get<2>(last_key_) != computer) {
    last_key_ = Key(file, channel, computer);
    last_numbering_ = &numberings_[last_key_];
    last_span_ = last_numbering_->spans.end();
  }
  Numbering& numbering = *last_numbering_;
  if (numbering.abandoned) return;
  auto& spans = numbering.spans;
  // The common case: the next id of the span the record before extended.
  if (last_span_ != spans.end() && id == last_span_->second.last + 1) {
    auto next = std::next(last_span_);
    if (next == spans.end() || next->first != id + 1) {
      last_span_->second.last = id;
      last_span_->second.last_ms = time_ms;
      return;
    }
  }
  auto after = spans.upper_bound(id);  // the first span that starts after the id
  auto before = after == spans.begin() ? spans.end() : std::prev(after);
  if (before != spans.end() && id <= before->second.last) return;  // seen: a copy of a record
  const bool joins_before = before != spans.end() && before->second.last + 1 == id;
  const bool joins_after = after != spans.end() && after->first == id + 1;
  if (joins_before && joins_after) {
    before->second.last = after->second.last;
    before->second.last_ms = after->second.last_ms;
    spans.erase(after);
    last_span_ = before;
  } else if (joins_before) {
    before->second.last = id;
    before->second.last_ms = time_ms;
    last_span_ = before;
  } else if (joins_after) {
    Span span = after->second;
    span.first_ms = time_ms;
    spans.erase(after);
    last_span_ = spans.emplace(id, span).first;
  } else {
    if (spans.size() >= MAX_SPANS) {
      numbering.abandoned = true;
      spans.clear();
      last_span_ = spans.end();
      ++scattered_;
      return;
    }
    last_span_ = spans.emplace(id, Span{id, time_ms, time_ms}).first;
  }
}

std::vector<RecordIdGaps::Gap> RecordIdGaps::Gaps() const {
  std::vector<Gap> gaps;
  for (const auto& [key, numbering] : numberings_) {
    const auto& spans = numbering.spans;
    for (auto it = spans.begin(); it != spans.end() && std::next(it) != spans.end(); ++it) {
      auto next = std::next(it);
      Gap gap;
      std::tie(gap.file, gap.channel, gap.computer) = key;
      gap.first_missing = it->second.last + 1;
      gap.last_missing = next->first - 1;
      gap.before_ms = it->second.last_ms;
      gap.after_ms = next->second.first_ms;
      gaps.push_back(std::move(gap));
    }
  }
  return gaps;
}

std::vector<RecordIdGaps::Holes> RecordIdGaps::Summary() const {
  std::vector<Holes> holes;
  for (const auto& [key, numbering] : numberings_) {
    const auto& spans = numbering.spans;
    if (spans.size() < 2) continue;
    Holes h;
    std::tie(h.file, h.channel, h.computer) = key;
    h.first_id = spans.begin()->first;
    h.last_id = spans.rbegin()->second.last;
    for (auto it = spans.begin(); it != spans.end(); ++it) {
      h.present += it->second.last - it->first + 1;
      auto next = std::next(it);
      if (next == spans.end()) break;
      const uint64_t missing = next->first - it->second.last - 1;
      h.missing += missing;
      ++h.gaps;
      if (h.gaps == 1 || missing > h.largest.missing()) {
        h.largest.file = h.file;
        h.largest.channel = h.channel;
        h.largest.computer = h.computer;
        h.largest.first_missing = it->second.last + 1;
        h.largest.last_missing = next->first - 1;
        h.largest.before_ms = it->second.last_ms;
        h.largest.after_ms = next->second.first_ms;
      }
    }
    holes.push_back(std::move(h));
  }
  // The share missing, smallest first (compared as missing/(missing+present), in integers).
  std::stable_sort(holes.begin(), holes.end(), [](const Holes& a, const Holes& b) {
    return static_cast<unsigned __int128>(a.missing) * (b.missing + b.present) <
           static_cast<unsigned __int128>(b.missing) * (a.missing + a.present);
  });
  return holes;
}

}  // namespace yagura::scan
