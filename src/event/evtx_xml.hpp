// EVTX record XML: a small pull reader for the XML libevtx renders, the Windows field-name
// flattening of it, and its conversion to evtx_dump's JSON shape.
//
// libevtx's XML is regular (no DTDs, only the five predefined entities and character
// references), so a full XML parser would buy nothing. Flattening follows docs/sigma-spec.md
// section 11 and gives the same names and values as JsonFlattener gives for evtx_dump output of
// the same record: System children by element name and attributes as Element_Attribute,
// EventData Data[@Name] by name with spaces removed (unnamed Data as "Data", several values),
// UserData/<Wrapper>/<Child> as Child, other sections by path ("Event.RenderingInfo.Message"). An element with no
// text and no attributes is a null value, as evtx_dump writes it.
//
// libevtx renders hexadecimal integers zero-padded ("0x00000000000003e7"); Windows and
// evtx_dump write them without leading zeros ("0x3e7"), and so do Sigma rules
// (SubjectLogonId: '0x3e7', GrantedAccess: '0x1410'). Values that are exactly "0x" and 8 or 16
// lower-case hex digits are therefore written without the leading zeros. Internal to src/event.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/arena.hpp"
#include "core/result.hpp"
#include "event/flatten.hpp"
#include "event/outline_plans.hpp"

namespace yagura::event {

class XmlCursor {
 public:
  enum class Token : uint8_t { kStart, kEnd, kText, kDone, kError };

  explicit XmlCursor(std::string_view xml) : xml_(xml) {}
  Token Next();

  // kStart and kEnd: the element name. kStart: the raw attribute text and whether the tag
  // closes itself. kText: the raw text (entities not decoded unless cdata()).
  [[nodiscard]] std::string_view name() const { return name_; }
  [[nodiscard]] std::string_view attributes() const { return attributes_; }
  [[nodiscard]] bool self_closing() const { return self_closing_; }
  [[nodiscard]] std::string_view text() const { return text_; }
  [[nodiscard]] bool cdata() const { return cdata_; }
  [[nodiscard]] std::string_view error() const { return error_; }

  // Iterates attributes of a raw attribute text; returns false at the end (or on bad syntax).
  static bool NextAttribute(std::string_view& rest, std::string_view& name,
                            std::string_view& raw_value);

 private:
  Token Fail(std::string_view message) {
    error_ = message;
    return Token::kError;
  }
  std::string_view xml_;
  size_t pos_ = 0;
  std::string_view name_;
  std::string_view attributes_;
  std::string_view text_;
  bool self_closing_ = false;
  bool cdata_ = false;
  std::string_view error_;
};

// "0x" followed by exactly 8 or 16 lower-case hex digits, as libevtx renders hex integers,
// without leading zeros (stored in `arena`); any other text unchanged.
[[nodiscard]] std::string_view NormaliseEvtxHex(std::string_view text, Arena& arena);

// Decodes entities and character references; returns `raw` itself when it has none, otherwise
// a view into `arena`.
[[nodiscard]] std::string_view DecodeXmlText(std::string_view raw, Arena& arena);

class EvtxXmlFlattener {
 public:
  // Emits the fields of one record. `arena` holds decoded text and names (the event's arena).
  [[nodiscard]] Result<void> Flatten(std::string_view xml, FieldEmitter& emitter, Arena& arena);

  // The same fields, in the same order, from the outline the native renderer recorded for
  // `xml` (binxml::OutlineStep values, in any alignment), without reading the XML's syntax.
  // With the outline's `shape` (the renderer's), records of a shape seen before are read by
  // its plan (below).
  [[nodiscard]] Result<void> FlattenOutline(std::string_view xml, std::string_view outline,
                                            FieldEmitter& emitter, Arena& arena,
                                            OutlineShapeId shape = {});
  // Records FlattenOutline read by a plan (see below) rather than step by step, so far.
  [[nodiscard]] uint64_t records_by_plan() const { return records_by_plan_; }

 private:
  enum class Section : uint8_t { kSystem, kEventData, kUserData, kOther };
  static constexpr uint32_t NO_STEP = UINT32_MAX;
  struct Frame {
    std::string_view element;
    std::string_view field;  // empty: the element yields no field of its own
    const void* field_handle = nullptr;  // `field` resolved by the emitter, if it was
    std::string_view text;
    uint32_t text_room = 0;        // the room of the arena buffer `text` was joined into
    uint32_t text_step = NO_STEP;  // the outline step of its first text, if any
    bool has_child = false;
    bool has_attributes = false;
    Section section = Section::kOther;  // the section the element is in (or is)
  };
  struct Attribute {
    std::string_view name;
    std::string_view raw_value;  // entities not decoded
    uint32_t step = NO_STEP;     // its outline step (outlines only)
  };
  // Both readers report the record element by element; the fields are named here. `key`: the
  // outline's element key (binxml::OutlineStep), 0 for none; `literal_start`: its attribute
  // values come from the template.
  [[nodiscard]] Result<void> Open(std::string_view element, FieldEmitter& emitter, Arena& arena,
                                  uint64_t key = 0, bool literal_start = false);
  // `step`: the outline step the text comes from (NO_STEP reading XML).
  void AddText(std::string_view text, Arena& arena, uint32_t step = NO_STEP);
  void Close(FieldEmitter& emitter, Arena& arena);

  std::vector<Frame> stack_;
  std::vector<Attribute> attributes_;  // of the element being opened
  std::string name_;
  bool seen_root_ = false;

  // Field names of the outline's keyed elements, decided once per key: the elements of a
  // template recur record after record, and naming them (comparing element and attribute
  // names, building Element_Attribute names, looking the fields up) was a third of reading a
  // record's fields. Direct-mapped; the names live in known_names_ until it is cleared,
  // between records.
  struct KnownAttribute {
    std::string_view name;   // as in the outline
    std::string_view field;  // Element_Attribute
    const void* field_handle = nullptr;
  };
  static constexpr size_t KNOWN_ATTRIBUTES = 4;  // per element; more are named each time
  struct KnownElement {
    uint64_t key = 0;
    std::string_view field;
    const void* field_handle = nullptr;
    uint16_t depth = 0;
    Section section = Section::kOther;
    uint8_t attribute_count = 0;  // in known_attributes_, KNOWN_ATTRIBUTES per slot
  };
  // Keys last the whole scan (binxml::OutlineStep), so the table holds the elements of every
  // template seen; slots by a multiplicative hash of the key.
  static constexpr unsigned KNOWN_SLOTS_LOG2 = 10;
  static constexpr size_t KNOWN_NAMES_LIMIT = size_t{1} << 20;
  std::vector<KnownElement> known_;
  std::vector<KnownAttribute> known_attributes_;
  Arena known_names_;
  size_t known_bytes_ = 0;
  uint64_t known_scope_ = 0;  // the handles are of the emitter with this resolve_scope()

  // Record plans. Records of one template mostly have the same outline step for step: the
  // same elements (keys), attributes, texts and closes, only other text. What such a record
  // emits is then known before reading it: which step's text goes to which field, whether an
  // element without text is null. The first record of a shape is flattened step by step and
  // recorded as its plan; the next ones of that shape (the renderer names it, OutlineShapeId)
  // are flattened by the plan, without the stack, the naming and the per-step work. A shape the
  // plan cannot express (an element named by its attribute values, more than one text in an
  // element, an element the keyed names do not cover) is kept as not plannable. Plans name
  // fields through known_'s entries and are cleared with them (OutlinePlans keeps them).
  struct PlannedEmit {  // 24 bytes: a plan is read whole for every record that follows it
    const void* field_handle = nullptr;
    const char* field = nullptr;
    uint32_t field_length = 0;
    uint16_t step = 0;  // the attribute's step, or the leaf's text step (with TEXT_STEP)
    uint8_t flags = 0;
  };
  static constexpr uint8_t LEAF = 1;            // else an attribute
  static constexpr uint8_t TEXT_STEP = 2;       // a leaf with a text step
  static constexpr uint8_t HAS_ATTRIBUTES = 4;  // a leaf: with attributes, no text is no value
  struct Plan {
    OutlineShapeId shape;  // not known: an empty slot (OutlinePlans)
    size_t steps = 0;
    uint64_t last_used = 0;
    bool usable = false;
    std::vector<PlannedEmit> emits;
    std::vector<uint16_t> read_steps;  // the steps whose text the emits read
    void Reset() {
      emits.clear();
      read_steps.clear();
    }
  };
  // Emits the fields of a record that has `plan`'s shape; false (nothing emitted) when a step
  // it reads lies outside the record.
  [[nodiscard]] bool FollowPlan(const Plan& plan, std::string_view xml, std::string_view outline,
                  FieldEmitter& emitter, Arena& arena) const;
  void AddPlannedEmit(const void* field_handle, std::string_view field, uint32_t step,
                      uint8_t flags);
  // The outline read step by step.
  [[nodiscard]] Result<void> FlattenSteps(std::string_view xml, std::string_view outline,
                                          FieldEmitter& emitter, Arena& arena);
  OutlinePlans<Plan> plans_;
  Plan* recording_ = nullptr;  // the plan being recorded while flattening step by step
  uint64_t records_by_plan_ = 0;
};

// The record as evtx_dump would print it: {"Event": {"#attributes": {...}, "System": {...},
// "EventData": {...}}}. Integers are written as numbers, everything else as strings. With the
// record's outline (binxml::OutlineStep values), the elements are taken from it instead of
// the XML's syntax; with the outline's `shape` as well, records of a shape seen before are
// written by a plan.
[[nodiscard]] Result<std::string> EvtxXmlToJson(std::string_view xml,
                                                std::string_view outline = {},
                                                OutlineShapeId shape = {});
// The same, written over `out`, whose storage is reused (an alert writer converts record after
// record). On failure `out` holds partial text.
[[nodiscard]] Result<void> EvtxXmlToJson(std::string_view xml, std::string_view outline,
                                         std::string& out, OutlineShapeId shape = {});
// Records this thread's EvtxXmlToJson wrote by a plan (OutlinePlans: records of one outline
// shape have the same JSON but for their values), so far.
[[nodiscard]] uint64_t EvtxJsonRecordsByPlan();

}  // namespace yagura::event
