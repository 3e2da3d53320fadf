// One forward pass over the XML with a stack of open elements. Each element's field name is
// decided when it opens (from its section and depth) and stored in the event's arena; its text
// is emitted when it closes, and only if it had no child elements (whitespace between child
// elements is layout, not data).
#include "event/evtx_xml.hpp"

#include <emmintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <deque>

#include "core/json_writer.hpp"
#include "core/utf8.hpp"
#include "event/binxml.hpp"

namespace yagura::event {
namespace {

// Whether the text of outline step `step` lies within the record's `text`. The renderer writes
// outlines so, and reading step by step checks it; a plan checks the steps it reads before it
// writes anything.
bool StepTextWithin(std::string_view text, std::string_view outline, size_t step) {
  const binxml::OutlineStep at = binxml::OutlineStep::At(outline, step);
  return at.value <= text.size() && at.value_length <= text.size() - at.value;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Decodes one entity at raw[i] == '&' into out; returns the bytes consumed, or 0 if it is not a
// well-formed entity (then the '&' is kept literally).
size_t DecodeEntity(std::string_view raw, size_t i, char*& out) {
  size_t end = raw.find(';', i);
  if (end == std::string_view::npos || end - i > 12) return 0;
  std::string_view entity = raw.substr(i + 1, end - i - 1);
  if (entity == "lt") {
    *out++ = '<';
  } else if (entity == "gt") {
    *out++ = '>';
  } else if (entity == "amp") {
    *out++ = '&';
  } else if (entity == "quot") {
    *out++ = '"';
  } else if (entity == "apos") {
    *out++ = '\'';
  } else if (entity.size() >= 2 && entity[0] == '#') {
    uint32_t code = 0;
    bool hex = entity[1] == 'x' || entity[1] == 'X';
    std::string_view digits = entity.substr(hex ? 2 : 1);
    if (digits.empty()) return 0;
    for (char c : digits) {
      uint32_t d = 0;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint32_t>(c - '0');
      } else if (hex && c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (hex && c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return 0;
      }
      code = code * (hex ? 16 : 10) + d;
      if (code > 0x10ffff) return 0;
    }
    if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd;
    out = WriteUtf8(out, code);
  } else {
    return 0;
  }
  return end - i + 1;
}

// Adds a piece of an element's text (text is split by comments, CDATA or a template's
// substitutions): the first piece is kept as it is, later ones are joined to it in `arena`.
// `room` is the size of the arena buffer the text was joined into (0: the text is a view of
// the record). Buffers grow by doubling: copying everything before at every piece made a record
// of many small pieces cost memory and time quadratic in their number (a 3 KB EVTX file found
// by the fuzz harness rendered to text that took over 2 GB to join).
void AddTextPiece(std::string_view& text, uint32_t& room, std::string_view piece, Arena& arena) {
  if (piece.empty()) return;
  if (text.empty()) {
    text = piece;
    room = 0;
    return;
  }
  const size_t size = text.size() + piece.size();
  if (room != 0 && size <= room) {
    // Ours (the arena buffer joined into), with room after the text.
    std::memcpy(const_cast<char*>(text.data()) + text.size(), piece.data(), piece.size());
    text = {text.data(), size};
    return;
  }
  const size_t capacity = std::max<size_t>(2 * size, 64);
  char* joined = arena.Allocate(capacity);
  std::memcpy(joined, text.data(), text.size());
  std::memcpy(joined + text.size(), piece.data(), piece.size());
  text = {joined, size};
  room = static_cast<uint32_t>(std::min<size_t>(capacity, UINT32_MAX));
}

// The record's text at [offset, offset + length), or false when the outline points outside it.
bool OutlineText(std::string_view xml, uint32_t offset, size_t length, std::string_view& out) {
  if (offset > xml.size() || length > xml.size() - offset) return false;
  out = xml.substr(offset, length);
  return true;
}

}  // namespace

std::string_view NormaliseEvtxHex(std::string_view text, Arena& arena) {
  if ((text.size() != 10 && text.size() != 18) || text[0] != '0' || text[1] != 'x' || text[2] != '0') {
    return text;
  }
  size_t first = 2;
  for (size_t i = 2; i < text.size(); ++i) {
    char c = text[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return text;
    if (c == '0' && first == i && i + 1 < text.size()) first = i + 1;
  }
  size_t digits = text.size() - first;
  char* out = arena.Allocate(2 + digits);
  out[0] = '0';
  out[1] = 'x';
  std::memcpy(out + 2, text.data() + first, digits);
  return {out, 2 + digits};
}

namespace {

// Whether `text` holds an '&' (every entity and character reference starts with one). Inline:
// most values are a few bytes without one, where a call to memchr cost more than the search.
inline bool HasAmpersand(std::string_view text) {
  const char* at = text.data();
  const size_t size = text.size();
  if (size >= 16) {
    const __m128i ampersand = _mm_set1_epi8('&');
    auto block_has = [&](const char* block) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
      return _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, ampersand)) != 0;
    };
    for (size_t i = 0; i + 16 <= size; i += 16)
      if (block_has(at + i)) return true;
    return block_has(at + size - 16);  // the last bytes, overlapping the blocks before
  }
  if (size >= 8) {
    // Two words overlapping in the middle; a byte equal to '&' becomes zero in `x`.
    auto word_has = [](const char* word) {
      uint64_t x;
      std::memcpy(&x, word, sizeof x);
      x ^= 0x2626262626262626ull;
      return ((x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull) != 0;
    };
    return word_has(at) || word_has(at + size - 8);
  }
  for (size_t i = 0; i < size; ++i)
    if (at[i] == '&') return true;
  return false;
}

std::string_view DecodeEntities(std::string_view raw, Arena& arena);

// DecodeXmlText and NormaliseEvtxHex with their common cases inline, for the paths that run
// once per value.
inline std::string_view Decode(std::string_view raw, Arena& arena) {
  return HasAmpersand(raw) ? DecodeEntities(raw, arena) : raw;
}
inline std::string_view NormaliseHex(std::string_view text, Arena& arena) {
  return text.size() == 10 || text.size() == 18 ? NormaliseEvtxHex(text, arena) : text;
}

}  // namespace

std::string_view DecodeXmlText(std::string_view raw, Arena& arena) { return Decode(raw, arena); }

namespace {

std::string_view DecodeEntities(std::string_view raw, Arena& arena) {
  size_t first = raw.find('&');
  if (first == std::string_view::npos) return raw;
  // A decoded entity is never longer than its reference, so raw.size() bytes suffice.
  char* start = arena.Allocate(raw.size());
  char* out = start;
  std::memcpy(out, raw.data(), first);
  out += first;
  for (size_t i = first; i < raw.size();) {
    if (raw[i] == '&') {
      size_t used = DecodeEntity(raw, i, out);
      if (used > 0) {
        i += used;
        continue;
      }
    }
    *out++ = raw[i++];
  }
  return {start, static_cast<size_t>(out - start)};
}

}  // namespace

XmlCursor::Token XmlCursor::Next() {
  while (true) {
    if (pos_ >= xml_.size()) return Token::kDone;
    if (xml_[pos_] != '<') {
      size_t end = xml_.find('<', pos_);
      if (end == std::string_view::npos) end = xml_.size();
      text_ = xml_.substr(pos_, end - pos_);
      cdata_ = false;
      pos_ = end;
      return Token::kText;
    }
    std::string_view rest = xml_.substr(pos_);
    if (rest.substr(0, 4) == "<!--") {
      size_t end = xml_.find("-->", pos_ + 4);
      if (end == std::string_view::npos) return Fail("unterminated comment");
      pos_ = end + 3;
      continue;
    }
    if (rest.substr(0, 9) == "<![CDATA[") {
      size_t end = xml_.find("]]>", pos_ + 9);
      if (end == std::string_view::npos) return Fail("unterminated CDATA section");
      text_ = xml_.substr(pos_ + 9, end - pos_ - 9);
      cdata_ = true;
      pos_ = end + 3;
      return Token::kText;
    }
    if (rest.substr(0, 2) == "<?") {
      size_t end = xml_.find("?>", pos_ + 2);
      if (end == std::string_view::npos) return Fail("unterminated processing instruction");
      pos_ = end + 2;
      continue;
    }
    if (rest.substr(0, 2) == "<!") {
      size_t end = xml_.find('>', pos_ + 2);
      if (end == std::string_view::npos) return Fail("unterminated declaration");
      pos_ = end + 1;
      continue;
    }
    if (rest.substr(0, 2) == "</") {
      size_t end = xml_.find('>', pos_ + 2);
      if (end == std::string_view::npos) return Fail("unterminated end tag");
      name_ = TrimSpaces(xml_.substr(pos_ + 2, end - pos_ - 2));
      pos_ = end + 1;
      if (name_.empty()) return Fail("empty end tag");
      return Token::kEnd;
    }
    size_t i = pos_ + 1;
    while (i < xml_.size() && !IsSpace(xml_[i]) && xml_[i] != '/' && xml_[i] != '>') ++i;
    name_ = xml_.substr(pos_ + 1, i - pos_ - 1);
    if (name_.empty()) return Fail("empty element name");
    size_t attributes_start = i;
    char quote = 0;
    while (i < xml_.size()) {
      char c = xml_[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        break;
      }
      ++i;
    }
    if (i >= xml_.size()) return Fail("unterminated start tag");
    size_t attributes_end = i;
    self_closing_ = attributes_end > attributes_start && xml_[attributes_end - 1] == '/';
    if (self_closing_) --attributes_end;
    attributes_ = xml_.substr(attributes_start, attributes_end - attributes_start);
    pos_ = i + 1;
    return Token::kStart;
  }
}

bool XmlCursor::NextAttribute(std::string_view& rest, std::string_view& name,
                              std::string_view& raw_value) {
  size_t i = 0;
  while (i < rest.size() && IsSpace(rest[i])) ++i;
  size_t name_start = i;
  while (i < rest.size() && rest[i] != '=' && !IsSpace(rest[i])) ++i;
  name = rest.substr(name_start, i - name_start);
  while (i < rest.size() && IsSpace(rest[i])) ++i;
  if (name.empty() || i >= rest.size() || rest[i] != '=') return false;
  ++i;
  while (i < rest.size() && IsSpace(rest[i])) ++i;
  if (i >= rest.size() || (rest[i] != '"' && rest[i] != '\'')) return false;
  char quote = rest[i++];
  size_t end = rest.find(quote, i);
  if (end == std::string_view::npos) return false;
  raw_value = rest.substr(i, end - i);
  rest.remove_prefix(end + 1);
  return true;
}

// Opens an element whose attributes are in attributes_: names its field from its section and
// depth, and emits the attributes that are fields of their own.
Result<void> EvtxXmlFlattener::Open(std::string_view element, FieldEmitter& emitter,
                                    Arena& arena, uint64_t key, bool literal_start) {
  if (stack_.empty() && seen_root_) return Fail("more than one root element");
  seen_root_ = true;
  if (stack_.size() >= 64) return Fail("XML nested too deeply");
  const size_t depth = stack_.size();  // 0: Event, 1: section, 2: section child, ...
  if (!stack_.empty()) stack_.back().has_child = true;
  std::string_view section = depth >= 2 ? stack_[1].element : std::string_view();
  // Filled in place: a whole Frame copied in after piecewise stores stalls the CPU.
  Frame& frame = stack_.emplace_back();
  frame.element = element;
  frame.field = {};
  frame.field_handle = nullptr;
  frame.text = {};
  frame.text_room = 0;
  frame.text_step = NO_STEP;
  frame.has_child = false;
  frame.has_attributes = false;
  frame.section = Section::kOther;
  if (depth == 1) {
    frame.section = element == "System"      ? Section::kSystem
                    : element == "EventData" ? Section::kEventData
                    : element == "UserData"  ? Section::kUserData
                                             : Section::kOther;
  } else if (depth >= 2) {
    frame.section = stack_[1].section;
  }
  // Which attributes become Element_Attribute fields, and under which element name.
  const bool attributes_as_fields =
      depth >= 2 && (frame.section == Section::kSystem ||
                     (frame.section == Section::kUserData && depth >= 3));
  // A keyed element's field depends on nothing but the element's name, its depth and its
  // section, and the names of its attributes; an EventData child's also on its attributes'
  // values (`Data Name="..."`), which the key covers only when they are literal. Decided once,
  // kept by key.
  KnownElement* known = nullptr;  // this element's entry: found, or filled in below
  bool named = false;
  if (key != 0 && depth >= 2 && depth <= UINT16_MAX && frame.section != Section::kOther &&
      (literal_start || !(frame.section == Section::kEventData && depth == 2))) {
    known = &known_[(key * 0x9e3779b97f4a7c15ull) >> (64 - KNOWN_SLOTS_LOG2)];
    if (known->key == key && known->depth == depth && known->section == frame.section) {
      frame.field = known->field;
      frame.field_handle = known->field_handle;
      named = true;
    }
  }
  // A plan names the element's field through its entry: without one the shape has no plan.
  if (recording_ != nullptr && depth >= 2 && known == nullptr) recording_->usable = false;
  if (depth >= 2 && !named) {
    if (frame.section == Section::kSystem) {
      frame.field = element;
    } else if (frame.section == Section::kEventData) {
      if (depth == 2 && element == "Data") {
        std::string_view data_name;
        for (const Attribute& attribute : attributes_) {
          if (attribute.name == "Name") data_name = attribute.raw_value;
        }
        if (!data_name.empty()) {
          std::string_view decoded = DecodeXmlText(data_name, arena);
          if (decoded.find(' ') == std::string_view::npos) {
            frame.field = decoded;  // valid as long as the record, or the arena
          } else {
            char* out = arena.Allocate(decoded.size());
            size_t length = 0;
            for (char c : decoded) {
              if (c != ' ') out[length++] = c;
            }
            frame.field = {out, length};
          }
        } else {
          frame.field = "Data";
        }
      } else {
        frame.field = element;
      }
    } else if (frame.section == Section::kUserData) {
      if (depth >= 3) frame.field = element;
    } else {
      std::string_view parent = stack_[depth - 1].field;
      if (depth == 2) {
        name_.assign("Event.");
        name_.append(section);
      } else {
        name_.assign(parent);
      }
      name_.push_back('.');
      name_.append(element);
      frame.field = arena.Store(name_);
    }
    if (known != nullptr) {
      known->key = key;
      known->depth = static_cast<uint16_t>(depth);
      known->section = frame.section;
      known->attribute_count = 0;
      known->field = frame.field.empty() ? std::string_view() : known_names_.Store(frame.field);
      known->field_handle = frame.field.empty() ? nullptr : emitter.Resolve(frame.field);
      known_bytes_ += frame.field.size();
      frame.field = known->field;
      frame.field_handle = known->field_handle;
    }
  }
  if (attributes_as_fields) {
    // The element's kept attribute names (none without an entry).
    KnownAttribute* const known_attributes =
        known != nullptr
            ? &known_attributes_[static_cast<size_t>(known - known_.data()) * KNOWN_ATTRIBUTES]
            : nullptr;
    const uint8_t known_count = known != nullptr ? known->attribute_count : 0;
    for (const Attribute& attribute : attributes_) {
      if (attribute.name.substr(0, 5) == "xmlns") continue;
      frame.has_attributes = true;
      const FieldValue value{NormaliseHex(Decode(attribute.raw_value, arena), arena),
                             ValueType::kString};
      const KnownAttribute* named_attribute = nullptr;
      for (uint8_t k = 0; k < known_count; ++k) {
        if (known_attributes[k].name == attribute.name) named_attribute = &known_attributes[k];
      }
      if (named_attribute == nullptr) {
        name_.assign(element);
        name_.push_back('_');
        name_.append(attribute.name);
        if (known == nullptr || known->attribute_count == KNOWN_ATTRIBUTES) {
          if (recording_ != nullptr) recording_->usable = false;
          emitter.Emit(name_, value);
          continue;
        }
        KnownAttribute& added = known_attributes[known->attribute_count++];
        added.name = known_names_.Store(attribute.name);
        added.field = known_names_.Store(name_);
        added.field_handle = emitter.Resolve(added.field);
        known_bytes_ += attribute.name.size() + name_.size();
        named_attribute = &added;
      }
      emitter.EmitResolved(named_attribute->field_handle, named_attribute->field, value.text,
                           value.type);
      if (recording_ != nullptr) {
        AddPlannedEmit(named_attribute->field_handle, named_attribute->field, attribute.step,
                       0);
      }
    }
  }
  return {};
}

// Text (decoded) inside the innermost open element; what lies between child elements is layout.
void EvtxXmlFlattener::AddText(std::string_view text, Arena& arena, uint32_t step) {
  if (stack_.empty() || stack_.back().has_child) return;
  Frame& frame = stack_.back();
  if (recording_ != nullptr) {
    // A plan gives an element the text of one step; pieces joined are left to this path.
    if (frame.text_step != NO_STEP) recording_->usable = false;
    frame.text_step = step;
  }
  AddTextPiece(frame.text, frame.text_room, text, arena);
}

// Closes the innermost element: a leaf's text is its value; a leaf with neither text nor
// attributes is null.
void EvtxXmlFlattener::Close(FieldEmitter& emitter, Arena& arena) {
  const Frame& frame = stack_.back();
  if (recording_ != nullptr && !frame.has_child && !frame.field.empty()) {
    AddPlannedEmit(frame.field_handle, frame.field, frame.text_step,
                   LEAF | (frame.text_step != NO_STEP ? TEXT_STEP : 0) |
                       (frame.has_attributes ? HAS_ATTRIBUTES : 0));
  }
  if (!frame.has_child && !frame.field.empty()) {
    if (frame.text.empty() && !frame.has_attributes) {
      emitter.EmitResolved(frame.field_handle, frame.field, {}, ValueType::kNull);
    } else if (!frame.text.empty()) {
      emitter.EmitResolved(frame.field_handle, frame.field, NormaliseHex(frame.text, arena),
                           ValueType::kString);
    }
  }
  stack_.pop_back();
}

Result<void> EvtxXmlFlattener::Flatten(std::string_view xml, FieldEmitter& emitter,
                                       Arena& arena) {
  stack_.clear();
  seen_root_ = false;
  XmlCursor cursor(xml);
  while (true) {
    XmlCursor::Token token = cursor.Next();
    switch (token) {
      case XmlCursor::Token::kDone:
        if (!stack_.empty()) return Fail("XML ends inside <" + std::string(stack_.back().element) + ">");
        if (!seen_root_) return Fail("no XML element in record");
        return {};
      case XmlCursor::Token::kError:
        return Fail("bad XML: " + std::string(cursor.error()));
      case XmlCursor::Token::kText:
        AddText(cursor.cdata() ? cursor.text() : DecodeXmlText(cursor.text(), arena), arena);
        break;
      case XmlCursor::Token::kEnd:
        if (stack_.empty() || stack_.back().element != cursor.name()) {
          return Fail("mismatched end tag </" + std::string(cursor.name()) + ">");
        }
        Close(emitter, arena);
        break;
      case XmlCursor::Token::kStart: {
        attributes_.clear();
        std::string_view rest = cursor.attributes();
        Attribute attribute;
        while (XmlCursor::NextAttribute(rest, attribute.name, attribute.raw_value)) {
          attributes_.push_back(attribute);
        }
        if (auto opened = Open(cursor.name(), emitter, arena); !opened) return opened;
        if (cursor.self_closing()) Close(emitter, arena);
        break;
      }
    }
  }
}

Result<void> EvtxXmlFlattener::FlattenOutline(std::string_view xml, std::string_view outline,
                                              FieldEmitter& emitter, Arena& arena,
                                              OutlineShapeId shape) {
  using binxml::OutlineStep;
  stack_.clear();
  seen_root_ = false;
  if (known_.empty()) {
    known_.resize(size_t{1} << KNOWN_SLOTS_LOG2);
    known_attributes_.resize(known_.size() * KNOWN_ATTRIBUTES);
  }
  if (known_scope_ != emitter.resolve_scope() || known_bytes_ > KNOWN_NAMES_LIMIT) {
    std::fill(known_.begin(), known_.end(), KnownElement{});
    known_names_.Reset();
    known_bytes_ = 0;
    known_scope_ = emitter.resolve_scope();
    plans_.Clear();  // they name fields through those entries
  }
  if (outline.size() % sizeof(OutlineStep) != 0) return Fail("damaged record outline");
  Plan* plan = nullptr;
  if (const Plan* followed = plans_.Find(outline.size() / sizeof(OutlineStep), shape, &plan);
      followed != nullptr && FollowPlan(*followed, xml, outline, emitter, arena)) {
    ++records_by_plan_;
    return {};
  }
  recording_ = plan;
  auto flattened = FlattenSteps(xml, outline, emitter, arena);
  recording_ = nullptr;
  if (!flattened && plan != nullptr) OutlinePlans<Plan>::Drop(plan);
  return flattened;
}

void EvtxXmlFlattener::AddPlannedEmit(const void* field_handle, std::string_view field,
                                      uint32_t step, uint8_t flags) {
  // Steps past 16 bits would not fit: such records are read step by step.
  if (step != NO_STEP && step > UINT16_MAX) recording_->usable = false;
  if (!(flags & LEAF) || (flags & TEXT_STEP)) {
    recording_->read_steps.push_back(static_cast<uint16_t>(step));
  }
  recording_->emits.push_back(PlannedEmit{field_handle, field.data(),
                                          static_cast<uint32_t>(field.size()),
                                          static_cast<uint16_t>(step), flags});
}

bool EvtxXmlFlattener::FollowPlan(const Plan& plan, std::string_view xml,
                                  std::string_view outline, FieldEmitter& emitter,
                                  Arena& arena) const {
  using binxml::OutlineStep;
  // Where the texts it reads end, the furthest: one test instead of one per step.
  uint64_t end = 0;
  for (const uint16_t step : plan.read_steps) {
    const OutlineStep at = binxml::OutlineStep::At(outline, step);
    end = std::max(end, uint64_t{at.value} + at.value_length);
  }
  if (end > xml.size()) return false;
  for (const PlannedEmit& emit : plan.emits) {
    std::string_view text;
    if (!(emit.flags & LEAF) || (emit.flags & TEXT_STEP)) {
      const OutlineStep step = binxml::OutlineStep::At(outline, emit.step);
      text = Decode(xml.substr(step.value, step.value_length), arena);
    }
    const std::string_view field(emit.field, emit.field_length);
    if (!(emit.flags & LEAF) || !text.empty()) {
      emitter.EmitResolved(emit.field_handle, field, NormaliseHex(text, arena),
                           ValueType::kString);
    } else if (!(emit.flags & HAS_ATTRIBUTES)) {
      emitter.EmitResolved(emit.field_handle, field, {}, ValueType::kNull);
    }
  }
  return true;
}

Result<void> EvtxXmlFlattener::FlattenSteps(std::string_view xml, std::string_view outline,
                                            FieldEmitter& emitter, Arena& arena) {
  using binxml::OutlineStep;
  const size_t steps = outline.size() / sizeof(OutlineStep);
  size_t i = 0;
  while (i < steps) {
    const OutlineStep step = binxml::OutlineStep::At(outline, i);
    ++i;
    switch (step.kind) {
      case OutlineStep::kOpen: {
        std::string_view element;
        if (!OutlineText(xml, step.name, step.name_length, element)) {
          return Fail("damaged record outline");
        }
        // The element's attributes follow it.
        attributes_.clear();
        while (i < steps) {
          const OutlineStep next = binxml::OutlineStep::At(outline, i);
          if (next.kind != OutlineStep::kAttribute) break;
          Attribute attribute;
          attribute.step = static_cast<uint32_t>(i);
          if (!OutlineText(xml, next.name, next.name_length, attribute.name) ||
              !OutlineText(xml, next.value, next.value_length, attribute.raw_value)) {
            return Fail("damaged record outline");
          }
          attributes_.push_back(attribute);
          ++i;
        }
        if (auto opened = Open(element, emitter, arena, step.element_key(),
                               (step.flags & OutlineStep::LITERAL_START) != 0);
            !opened) {
          return opened;
        }
        break;
      }
      case OutlineStep::kText: {
        std::string_view text;
        if (!OutlineText(xml, step.value, step.value_length, text)) {
          return Fail("damaged record outline");
        }
        AddText(Decode(text, arena), arena, static_cast<uint32_t>(i - 1));
        break;
      }
      case OutlineStep::kClose:
        if (stack_.empty()) return Fail("damaged record outline");
        Close(emitter, arena);
        break;
      default:
        return Fail("damaged record outline");
    }
  }
  if (!stack_.empty()) return Fail("XML ends inside <" + std::string(stack_.back().element) + ">");
  if (!seen_root_) return Fail("no XML element in record");
  return {};
}

// --- evtx_dump JSON ------------------------------------------------------------------------

namespace {

constexpr uint32_t NO_STEP = UINT32_MAX;

struct XmlAttribute {
  std::string_view name;
  std::string_view value;  // decoded
  uint32_t step = NO_STEP;  // its outline step, if read from one
};

struct XmlNode {
  std::string_view name;
  std::vector<XmlAttribute> attributes;
  std::string_view text;  // decoded; in the record or the conversion's arena (AddTextPiece)
  uint32_t text_room = 0;  // AddTextPiece's room
  std::vector<XmlNode*> children;
  // Read from an outline: the step of its text (the first, if pieces > 1), and whether its
  // attributes are all literal in the template.
  uint32_t text_step = NO_STEP;
  uint8_t text_pieces = 0;
  bool literal_start = false;
};

// The nodes of the records a thread converts, kept with their vectors' capacity from one
// record to the next: a record's tree costs no allocation once the thread has seen a larger.
// A deque, so that taking a node never moves the others.
struct XmlNodePool {
  std::deque<XmlNode> nodes;
  size_t used = 0;

  XmlNode* Take() {
    if (used == nodes.size()) nodes.emplace_back();
    XmlNode* node = &nodes[used++];
    node->name = {};
    node->attributes.clear();
    node->text = {};
    node->text_room = 0;
    node->children.clear();
    node->text_step = NO_STEP;
    node->text_pieces = 0;
    node->literal_start = false;
    return node;
  }
};

bool LooksLikeInteger(std::string_view text) {
  size_t i = text.size() > 0 && text[0] == '-' ? 1 : 0;
  if (i >= text.size() || text.size() - i > 18) return false;
  if (text[i] == '0' && text.size() - i > 1) return false;
  for (size_t k = i; k < text.size(); ++k) {
    if (text[k] < '0' || text[k] > '9') return false;
  }
  return true;
}

// Working memory of one conversion, reused from node to node: no allocation per node or value.
struct JsonWriting {
  explicit JsonWriting(Arena& text_arena) : arena(text_arena) {}
  Arena& arena;
  std::string* out = nullptr;
  std::vector<uint8_t> written;  // per child of the node being written, a stack of them
  std::vector<std::string_view> keys;  // likewise: each child's key
  std::vector<size_t> same;      // likewise: the children written under one key
  // The plan being recorded (see EvtxXmlToJson), and where the output's text since the last
  // value began.
  struct JsonPlan* recording = nullptr;
  size_t mark = 0;
  std::vector<XmlNode*> pending;  // EvtxXmlToJson's walk over the tree
};

void WriteScalar(std::string& out, std::string_view text, Arena& arena) {
  text = NormaliseHex(text, arena);
  if (LooksLikeInteger(text)) {
    out.append(text);
  } else {
    AppendJsonString(out, text);
  }
}
void WriteScalar(JsonWriting& w, std::string_view text) { WriteScalar(*w.out, text, w.arena); }

// A record's evtx_dump JSON as text that is the same for every record of its outline's shape,
// and the values that differ, each from one step of the outline. Recorded while a record is
// written from its tree, replayed for the next records of the shape (OutlinePlans).
struct JsonPlan {
  enum Kind : uint8_t {
    kScalar,    // an attribute's value
    kLeaf,      // an element without children or shown attributes: its text, or null
    kHashText,  // an element with attributes and no children: `,"#text":` and its text, if any
  };
  struct Value {
    uint32_t literal_end;  // the fixed text before it ends here in `literals`
    uint32_t step;         // NO_STEP: no text
    Kind kind;
  };
  OutlineShapeId shape;  // not known: an empty slot (OutlinePlans)
  size_t steps = 0;
  uint64_t last_used = 0;
  bool usable = false;
  std::string literals;
  std::vector<Value> values;
  void Reset() {
    literals.clear();
    values.clear();
  }
};

// Recording: the fixed text written since the last value, and a value of `kind` from `step`.
void PlanValue(JsonWriting& w, JsonPlan::Kind kind, uint32_t step) {
  if (w.recording == nullptr) return;
  JsonPlan& plan = *w.recording;
  plan.literals.append(*w.out, w.mark, w.out->size() - w.mark);
  plan.values.push_back(JsonPlan::Value{static_cast<uint32_t>(plan.literals.size()), step, kind});
}
void PlanValueEnd(JsonWriting& w) {
  if (w.recording != nullptr) w.mark = w.out->size();
}

std::string_view ChildKey(JsonWriting& w, const XmlNode& child, bool in_event_data) {
  if (in_event_data && child.name == "Data") {
    for (const XmlAttribute& attribute : child.attributes) {
      if (attribute.name == "Name") {
        // A key from a value: the same in every record of the shape only if the template holds it.
        if (w.recording != nullptr && !child.literal_start) w.recording->usable = false;
        return attribute.value;
      }
    }
  }
  return child.name;
}

void WriteNode(JsonWriting& w, const XmlNode& node, bool data_element) {
  std::string& out = *w.out;
  // The `Name` of a Data element became its key.
  auto shown = [&](const XmlAttribute& attribute) {
    return !(data_element && attribute.name == "Name");
  };
  bool any_attribute = false;
  for (const auto& attribute : node.attributes) any_attribute |= shown(attribute);
  if (w.recording != nullptr && node.text_pieces > 1) w.recording->usable = false;
  if (node.children.empty() && !any_attribute) {
    PlanValue(w, JsonPlan::kLeaf, node.text_step);
    if (node.text.empty()) {
      out.append("null");
    } else {
      WriteScalar(w, node.text);
    }
    PlanValueEnd(w);
    return;
  }
  out.push_back('{');
  bool first = true;
  if (any_attribute) {
    out.append("\"#attributes\":{");
    bool first_attribute = true;
    for (const auto& attribute : node.attributes) {
      if (!shown(attribute)) continue;
      if (!first_attribute) out.push_back(',');
      first_attribute = false;
      AppendJsonString(out, attribute.name);
      out.push_back(':');
      PlanValue(w, JsonPlan::kScalar, attribute.step);
      WriteScalar(w, attribute.value);
      PlanValueEnd(w);
    }
    out.push_back('}');
    first = false;
  }
  if (node.children.empty()) {
    PlanValue(w, JsonPlan::kHashText, node.text_step);
    if (!node.text.empty()) {
      out.append(",\"#text\":");
      WriteScalar(w, node.text);
    }
    PlanValueEnd(w);
    out.push_back('}');
    return;
  }
  // Children of one name are written together, as an array, at the first one's place. The
  // `written` marks of this node sit above those of its ancestors, and go when it is done.
  const bool event_data = node.name == "EventData";
  const size_t marks = w.written.size();
  const size_t count = node.children.size();
  w.written.resize(marks + count, 0);
  w.keys.resize(marks + count);
  for (size_t i = 0; i < count; ++i) w.keys[marks + i] = ChildKey(w, *node.children[i], event_data);
  for (size_t i = 0; i < count; ++i) {
    if (w.written[marks + i]) continue;
    const std::string_view key = w.keys[marks + i];
    const size_t same_begin = w.same.size();
    for (size_t k = i; k < count; ++k) {
      if (!w.written[marks + k] && w.keys[marks + k] == key) {
        w.same.push_back(k);
        w.written[marks + k] = 1;
      }
    }
    const size_t same_count = w.same.size() - same_begin;
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, key);
    out.push_back(':');
    if (same_count > 1) out.push_back('[');
    for (size_t k = 0; k < same_count; ++k) {
      if (k > 0) out.push_back(',');
      const XmlNode& child = *node.children[w.same[same_begin + k]];
      WriteNode(w, child, event_data && child.name == "Data");
    }
    if (same_count > 1) out.push_back(']');
    w.same.resize(same_begin);
  }
  w.written.resize(marks);
  w.keys.resize(marks);
  out.push_back('}');
}

}  // namespace

namespace {

// The record's elements as a tree under `document`, read from its XML.
Result<void> TreeOfXml(std::string_view xml, XmlNode& document, XmlNodePool& pool, Arena& arena) {
  XmlCursor cursor(xml);
  std::vector<XmlNode*> stack{&document};
  while (true) {
    XmlCursor::Token token = cursor.Next();
    if (token == XmlCursor::Token::kDone) break;
    if (token == XmlCursor::Token::kError) return Fail("bad XML: " + std::string(cursor.error()));
    if (token == XmlCursor::Token::kText) {
      if (stack.size() > 1) {
        AddTextPiece(stack.back()->text, stack.back()->text_room,
                     cursor.cdata() ? cursor.text() : DecodeXmlText(cursor.text(), arena), arena);
      }
      continue;
    }
    if (token == XmlCursor::Token::kEnd) {
      if (stack.size() <= 1 || stack.back()->name != cursor.name()) {
        return Fail("mismatched end tag </" + std::string(cursor.name()) + ">");
      }
      stack.pop_back();
      continue;
    }
    if (stack.size() > 64) return Fail("XML nested too deeply");
    XmlNode* node = pool.Take();
    node->name = cursor.name();
    std::string_view rest = cursor.attributes();
    std::string_view name;
    std::string_view value;
    while (XmlCursor::NextAttribute(rest, name, value)) {
      node->attributes.push_back(XmlAttribute{name, DecodeXmlText(value, arena)});
    }
    stack.back()->children.push_back(node);
    if (!cursor.self_closing()) stack.push_back(node);
  }
  if (stack.size() != 1) return Fail("XML ends inside an element");
  return {};
}

// The same tree from the record's outline (see EvtxXmlFlattener::FlattenOutline).
Result<void> TreeOfOutline(std::string_view xml, std::string_view outline, XmlNode& document,
                           XmlNodePool& pool, Arena& arena) {
  using binxml::OutlineStep;
  if (outline.size() % sizeof(OutlineStep) != 0) return Fail("damaged record outline");
  std::vector<XmlNode*> stack{&document};
  for (size_t i = 0; i < outline.size() / sizeof(OutlineStep); ++i) {
    const OutlineStep step = binxml::OutlineStep::At(outline, i);
    switch (step.kind) {
      case OutlineStep::kOpen: {
        if (stack.size() > 64) return Fail("XML nested too deeply");
        XmlNode* node = pool.Take();
        if (!OutlineText(xml, step.name, step.name_length, node->name)) {
          return Fail("damaged record outline");
        }
        node->literal_start = (step.flags & OutlineStep::LITERAL_START) != 0;
        stack.back()->children.push_back(node);
        stack.push_back(node);
        break;
      }
      case OutlineStep::kAttribute: {
        std::string_view name;
        std::string_view value;
        if (stack.size() <= 1 || !OutlineText(xml, step.name, step.name_length, name) ||
            !OutlineText(xml, step.value, step.value_length, value)) {
          return Fail("damaged record outline");
        }
        stack.back()->attributes.push_back(
            XmlAttribute{name, DecodeXmlText(value, arena), static_cast<uint32_t>(i)});
        break;
      }
      case OutlineStep::kText: {
        std::string_view text;
        if (!OutlineText(xml, step.value, step.value_length, text)) {
          return Fail("damaged record outline");
        }
        if (stack.size() > 1) {
          XmlNode& node = *stack.back();
          if (node.text_pieces++ == 0) node.text_step = static_cast<uint32_t>(i);
          AddTextPiece(node.text, node.text_room, DecodeXmlText(text, arena), arena);
        }
        break;
      }
      case OutlineStep::kClose:
        if (stack.size() <= 1) return Fail("damaged record outline");
        stack.pop_back();
        break;
      default:
        return Fail("damaged record outline");
    }
  }
  if (stack.size() != 1) return Fail("XML ends inside an element");
  return {};
}

}  // namespace

Result<std::string> EvtxXmlToJson(std::string_view xml, std::string_view outline,
                                  OutlineShapeId shape) {
  std::string out;
  if (auto written = EvtxXmlToJson(xml, outline, out, shape); !written) {
    return tl::unexpected(written.error());
  }
  return out;
}

namespace {

thread_local uint64_t json_records_by_plan = 0;

// Writes the JSON of a record that has `plan`'s shape; false (nothing written) when a step it
// reads lies outside the record.
bool FollowJsonPlan(const JsonPlan& plan, std::string_view xml, std::string_view outline,
                    std::string& out, Arena& arena) {
  for (const JsonPlan::Value& value : plan.values) {
    if (value.step != NO_STEP && !StepTextWithin(xml, outline, value.step)) return false;
  }
  out.clear();
  out.reserve(xml.size());
  size_t literal = 0;
  for (const JsonPlan::Value& value : plan.values) {
    out.append(plan.literals, literal, value.literal_end - literal);
    literal = value.literal_end;
    std::string_view text;
    if (value.step != NO_STEP) {
      const binxml::OutlineStep step = binxml::OutlineStep::At(outline, value.step);
      text = DecodeXmlText(xml.substr(step.value, step.value_length), arena);
    }
    switch (value.kind) {
      case JsonPlan::kScalar:
        WriteScalar(out, text, arena);
        break;
      case JsonPlan::kLeaf:
        if (text.empty()) {
          out.append("null");
        } else {
          WriteScalar(out, text, arena);
        }
        break;
      case JsonPlan::kHashText:
        if (!text.empty()) {
          out.append(",\"#text\":");
          WriteScalar(out, text, arena);
        }
        break;
    }
  }
  out.append(plan.literals, literal, std::string::npos);
  return true;
}

}  // namespace

uint64_t EvtxJsonRecordsByPlan() { return json_records_by_plan; }

Result<void> EvtxXmlToJson(std::string_view xml, std::string_view outline, std::string& out,
                           OutlineShapeId shape) {
  // Decoded texts, the tree's nodes, the writer's stacks and the plans, in storage the thread
  // keeps from record to record.
  thread_local Arena arena;
  arena.Reset();
  thread_local XmlNodePool pool;
  pool.used = 0;
  thread_local JsonWriting writing{arena};
  thread_local OutlinePlans<JsonPlan> plans;
  JsonPlan* plan = nullptr;
  if (!outline.empty() && outline.size() % sizeof(binxml::OutlineStep) == 0) {
    const size_t steps = outline.size() / sizeof(binxml::OutlineStep);
    if (const JsonPlan* followed = plans.Find(steps, shape, &plan);
        followed != nullptr && FollowJsonPlan(*followed, xml, outline, out, arena)) {
      ++json_records_by_plan;
      return {};
    }
  }
  XmlNode& document = *pool.Take();
  auto tree = outline.empty() ? TreeOfXml(xml, document, pool, arena)
                              : TreeOfOutline(xml, outline, document, pool, arena);
  if (tree && document.children.empty()) tree = Fail("no XML element in record");
  if (!tree) {
    if (plan != nullptr) OutlinePlans<JsonPlan>::Drop(plan);
    return tl::unexpected(tree.error());
  }
  // Layout whitespace around child elements is not data.
  std::vector<XmlNode*>& pending = writing.pending;
  pending.assign(1, &document);
  while (!pending.empty()) {
    XmlNode* node = pending.back();
    pending.pop_back();
    if (!node->children.empty()) {
      node->text = {};
      node->text_step = NO_STEP;
      node->text_pieces = 0;
    }
    for (XmlNode* child : node->children) pending.push_back(child);
  }
  out.clear();
  out.reserve(xml.size());  // the JSON is about as long as the XML
  out.push_back('{');
  const XmlNode& root = *document.children.front();
  AppendJsonString(out, root.name);
  out.push_back(':');
  writing.out = &out;
  writing.recording = plan;
  writing.mark = 0;
  WriteNode(writing, root, false);
  out.push_back('}');
  if (plan != nullptr) plan->literals.append(out, writing.mark, std::string::npos);
  writing.recording = nullptr;
  return {};
}

}  // namespace yagura::event
