// BinXML rendering: the XML text of an EVTX record, written directly from the chunk's bytes.
//
// A record's BinXML is (almost always) a template instance: a reference to a template
// definition stored once per chunk plus an array of substitution values. Each definition is
// compiled into a flat list of operations (element and attribute names already converted to
// UTF-8, literal text already escaped, substitution slots), found by its chunk offset within the
// chunk, and reused by later chunks whose definition reads the same (every chunk of a log
// defines its templates again); rendering a record then walks that list and formats only the
// record's values. In outline-only mode, what walking the list wrote for one record is
// recorded, and later records of that template with values of the same types replay it
// (binxml_replay.cpp). Nested BinXML values (type 0x21, e.g. UserData) are rendered recursively up
// to MAX_NESTING levels.
//
// The text is laid out exactly as libevtx lays it out, since everything downstream (flattening,
// JSON output, golden tests) was built on that text: two spaces of indentation per level, one
// element per line, text content inline (<A>text</A>), empty elements closed (<A/>), attributes
// whose optional value is absent left out, and values formatted as libevtx formats each type.
// Anything this renderer cannot vouch for (an unknown token or value type, a value of the wrong
// size) makes it fail the record rather than guess, so the caller can fall back to libevtx.
//
// Alongside the text, the renderer can record the record's outline (OutlineStep): where each
// element opens and closes and where the text of its name, attributes and content lies in the
// rendered text. Flattening then reads the outline instead of the XML's syntax
// (EvtxXmlFlattener::FlattenOutline), and gets the same fields.
//
// Every read is bounds-checked against the chunk; no state survives a failed record except the
// cached compiled templates, which are only added once compiled in full. Buffers grow during
// warm-up and are reused afterwards: rendering a record allocates nothing. Not thread-safe; one
// renderer per reader.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "event/outline_shape.hpp"

namespace yagura::event::binxml {

// A growable byte buffer that keeps its storage across records.
class TextBuffer {
 public:
  void Clear() { size_ = 0; }
  // `n` more bytes at the end, uninitialised.
  char* Extend(size_t n) {
    if (n > data_.size() - size_) Grow(n);
    char* at = data_.data() + size_;
    size_ += n;
    return at;
  }
  void Append(const char* text, size_t n) {
    if (n != 0) std::memcpy(Extend(n), text, n);
  }
  void Append(std::string_view text) { Append(text.data(), text.size()); }
  void Push(char c) { *Extend(1) = c; }
  void Truncate(size_t size) {
    if (size < size_) size_ = size;
  }
  [[nodiscard]] size_t size() const { return size_; }
  [[nodiscard]] size_t capacity() const { return data_.size(); }
  [[nodiscard]] const char* data() const { return data_.data(); }
  [[nodiscard]] char* mutable_data() { return data_.data(); }
  [[nodiscard]] std::string_view view() const { return {data_.data(), size_}; }

 private:
  void Grow(size_t n);
  std::vector<char> data_;
  size_t size_ = 0;
};

// BinXML value types (MS-EVEN6 2.2.12); kArrayFlag marks an array of the base type.
enum ValueType : uint8_t {
  kNullType = 0x00,
  kStringType = 0x01,
  kAnsiStringType = 0x02,
  kInt8Type = 0x03,
  kUInt8Type = 0x04,
  kInt16Type = 0x05,
  kUInt16Type = 0x06,
  kInt32Type = 0x07,
  kUInt32Type = 0x08,
  kInt64Type = 0x09,
  kUInt64Type = 0x0a,
  kReal32Type = 0x0b,
  kReal64Type = 0x0c,
  kBoolType = 0x0d,
  kBinaryType = 0x0e,
  kGuidType = 0x0f,
  kSizeTType = 0x10,
  kFileTimeType = 0x11,
  kSysTimeType = 0x12,
  kSidType = 0x13,
  kHexInt32Type = 0x14,
  kHexInt64Type = 0x15,
  kEvtHandleType = 0x20,
  kBinXmlType = 0x21,
  kEvtXmlType = 0x23,
  kArrayFlag = 0x80,
};

// One step of a record's outline: offsets and lengths are into the record's rendered text, so
// the outline travels with the text as plain bytes. Names are as written in the text; values
// are as written too (content escaped, attribute values as libevtx leaves them).
//
// A kOpen step carries the element's key in `value` and `value_length` (low and high halves;
// 0: none). Equal keys, in any records of one process, mean the same element of the same
// compiled template: the same name and the same attribute names, in the same order (an
// optional attribute may be absent). With LITERAL_START in `flags`, the attribute values come
// from the template too. So what a reader decides from them alone (a field's name) can be
// kept by key instead of being decided again. A template is known by what it compiles to, not
// by where it lies, so the same template in every chunk of a file (and of every file) gives
// its elements the same keys. Keys are 2^63 and up, or (past 65,536 distinct templates) below
// 2^55 and then for one chunk only.
struct OutlineStep {
  enum Kind : uint8_t { kOpen = 1, kAttribute, kText, kClose };
  static constexpr uint8_t LITERAL_START = 1;  // kOpen: every attribute is literal
  // (No member initialisers: a trivial type is copied in blocks, as replays copy steps.)
  uint8_t kind;
  uint8_t flags;
  uint16_t name_length;  // kOpen, kAttribute
  uint32_t name;
  uint32_t value;  // kAttribute, kText; kOpen: the key's low half
  uint32_t value_length;  // kAttribute, kText; kOpen: the key's high half

  [[nodiscard]] uint64_t element_key() const {
    return kind == kOpen ? (uint64_t{value_length} << 32 | value) : 0;
  }
  // Step `i` of an outline held as bytes (in any alignment).
  [[nodiscard]] static OutlineStep At(std::string_view outline, size_t i) {
    OutlineStep step;
    std::memcpy(&step, outline.data() + i * sizeof step, sizeof step);
    return step;
  }
};
static_assert(sizeof(OutlineStep) == 16 && std::is_trivial_v<OutlineStep>);

// Appends UTF-16LE text (`units` code units) as UTF-8, XML-escaped when `escape`. Returns false
// when the text cannot be rendered as libevtx renders it.
bool AppendUtf16(const uint8_t* data, size_t units, bool escape, TextBuffer& out);

// Appends the text of one substitution value of `type` (a plain value: not null, BinXML or an
// array), formatted as libevtx writes it; `escape` for element content. Returns false for a
// malformed value, or one whose libevtx rendering this does not reproduce.
bool AppendValue(uint8_t type, const uint8_t* data, size_t size, bool escape, TextBuffer& out);

// Renders records of one chunk. Offsets are relative to the chunk start, as BinXML's own
// references are.
class ChunkRenderer {
 public:
  static constexpr int MAX_NESTING = 8;     // nested BinXML values inside one record
  static constexpr int ELEMENT_KEY_OP_BITS = 24;  // an outline element key's op index
  static constexpr size_t MAX_CHUNK_SIZE = 1u << 24;
  static constexpr int MAX_ELEMENT_DEPTH = 256;
  // Bounds on one record: a few KiB of BinXML can reference the same values and templates over
  // and over, so the work and the text are capped rather than trusted.
  static constexpr size_t MAX_WORK = 1 << 18;
  static constexpr size_t MAX_TEMPLATES = 4096;  // compiled per chunk
  // What the compiled templates of earlier chunks may hold before they are dropped (at the next
  // SetChunk): ops, bytes of names and literal text, fused attributes.
  static constexpr size_t KEPT_OPS = size_t{1} << 18;
  static constexpr size_t KEPT_POOL_BYTES = size_t{8} << 20;
  static constexpr size_t KEPT_FUSED = size_t{1} << 18;
  // Names and literal text one template may compile to: a definition can name the same long
  // name thousands of times (each a five-byte token), and each is written out.
  static constexpr size_t MAX_TEMPLATE_TEXT = size_t{4} << 20;
  static constexpr size_t DEFAULT_OUTPUT_LIMIT = 64u << 20;

  // Records whose text would exceed `limit` bytes fail.
  void set_output_limit(size_t limit) { output_limit_ = limit; }
  // With an outline asked for, writes only the text its steps point at (names, attribute and
  // content values, as the XML would hold them), not the markup, indentation and end tags
  // around it: about a quarter less text, and readers of the outline never look at the rest.
  // A record that gets no outline is written as XML all the same (see text_is_xml()).
  void set_outline_only(bool on) { outline_only_ = on; }

  // Starts on a new chunk of `size` bytes (normally 64 KiB). `chunk` must stay valid until the
  // next SetChunk. Templates compiled for earlier chunks are kept, within the KEPT_ budgets, to
  // be reused where a template of this chunk reads the same (see CompileOrReuse).
  void SetChunk(const uint8_t* chunk, size_t size);

  // Appends the XML of the BinXML at [begin, end) of the chunk to `out`. On failure returns
  // false, `out` holds partial text and error() says what was wrong.
  // With `outline`, the record's outline replaces its contents; it is left empty when the text
  // holds something an XML reader would read otherwise than it was written (a name with a
  // space or a quote, a quote inside an attribute value), so that the XML is read instead.
  bool RenderRecord(uint32_t begin, uint32_t end, TextBuffer& out,
                    std::vector<OutlineStep>* outline = nullptr);

  // The shape of the last record's outline: a hash, under the seed template ids are hashed
  // with, of one word per step (an element's key, an attribute's key or its place among the
  // literal attributes of its element, the kind of a text or a close). Zero without an outline
  // or when an element or attribute has no key. Equal keys fix every name, so records of equal
  // shapes have outlines equal step by step but for where their texts lie and what they say.
  [[nodiscard]] OutlineShapeId outline_shape() const { return outline_shape_; }
  // Whether the last record's text is its XML: false when it holds only what its outline
  // points at (set_outline_only).
  [[nodiscard]] bool text_is_xml() const { return !compact_; }
  [[nodiscard]] std::string_view error() const { return error_; }
  // Whether the last failure was the output limit (the record is too large, not malformed).
  [[nodiscard]] bool over_limit() const { return over_limit_; }
  // Templates (and plain fragments) of the current chunk, compiled or reused.
  [[nodiscard]] size_t templates_compiled() const { return templates_.size(); }
  // Of those since construction, how many were reused from an earlier chunk's compilation.
  [[nodiscard]] size_t templates_reused() const { return templates_reused_; }
  // Template instances written by replaying a recording (see Execute), since construction; and
  // replays that gave up (the instance was then interpreted).
  [[nodiscard]] size_t instances_replayed() const { return instances_replayed_; }
  [[nodiscard]] size_t replays_abandoned() const { return replays_abandoned_; }
  // Traces held now (they are dropped together when over their budget, at a SetChunk).
  [[nodiscard]] size_t traces_kept() const { return traces_.size(); }
  // Off: every template instance is interpreted op by op (tests compare the two).
  void set_replay(bool on) { replay_ = on; }
  // Bytes of storage held (all of it reused): stays put once warm, which is how tests see that
  // rendering does not allocate.
  [[nodiscard]] size_t footprint() const {
    return ops_.capacity() * sizeof(Op) + fused_.capacity() * sizeof(FusedAttribute) +
           pool_.capacity() + templates_.capacity() * sizeof(Compiled) +
           values_.capacity() * sizeof(Value) +
           reusable_.capacity() * sizeof(ReusableTemplate) + canonical_.capacity() +
           TraceFootprint();
  }

 private:
  enum class OpCode : uint8_t {
    kOpenElement,  // "<Name" (and literal attributes, when fused), `close`: "</Name>\n"
    // kOpenElement that closes its start tag, then kSubstitution `index`, then kEndElement.
    kLeafSubstitution,
    kAttribute,    // " Name=\""
    kCloseStart,
    kCloseEmpty,
    kEndElement,
    kText,          // literal text, already escaped
    kSubstitution,  // value `index`; `optional` for token 0x0e
    kCharRef,       // `index` holds the character
    kEntityRef,     // name
    kCData,         // text, raw
    kPITarget,      // name
    kPIData,        // text, raw
  };
  struct Op {
    OpCode code;
    bool optional = false;     // kSubstitution, kLeafSubstitution: token 0x0e
    bool closes_start = false;  // kOpenElement: the start tag's attributes are all in `text`
    // kOpenElement, kAttribute: the names (and fused literal values) read back as written.
    bool plain = true;
    // kOpenElement, kLeafSubstitution: every attribute of the start tag is fused into `text`.
    bool literal_start = false;
    uint16_t index = 0;
    uint16_t fused_count = 0;  // kOpenElement: literal attributes fused into `text`
    uint32_t fused_begin = 0;  // ... at fused_[fused_begin...]
    uint32_t text = 0;  // offset into pool_
    uint32_t length = 0;
    uint32_t close = 0;  // kOpenElement: "</Name>\n" in pool_
    uint32_t close_length = 0;
  };
  struct Compiled {
    uint32_t key;  // chunk offset of the definition (or fragment) | kind bit
    uint32_t first_op;
    uint32_t op_count;
    // The outline key of the element op at first_op + i is element_keys + i, for i below
    // keyed_ops (see SetElementKeys); above it, none.
    uint32_t keyed_ops = 0;
    uint64_t element_keys = 0;
  };
  // Where a fused literal attribute lies in its start tag's text.
  struct FusedAttribute {
    uint32_t name;  // relative to the start of the op's text
    uint32_t name_length;
    uint32_t value;
    uint32_t value_length;
  };
  struct Value {
    uint8_t type;
    uint32_t offset;  // chunk offset of the value's bytes
    uint32_t size;
  };
  struct Element {
    uint32_t close = 0;  // "</Name>\n" in pool_
    uint32_t close_length = 0;
    size_t content_mark = 0;  // output size before the element (and its parent's ">\n")
    size_t tag_offset = 0;  // where its line starts in the output (arrays repeat the start tag)
    size_t outline_mark = 0;  // outline steps before the element opened
    bool start_open = true;     // "<Name attrs" written, neither ">" nor "/>" yet
    bool has_children = false;  // child elements written
    uint8_t pieces = 0;         // text or values in its content (at most one)
    bool parent_start_open = false;  // the parent's state before this element opened
    bool parent_has_children = false;
  };
  // The open elements, innermost last. OpenElement refuses to nest deeper than
  // MAX_ELEMENT_DEPTH, so a fixed stack holds them: opening and closing one is a step of an
  // index (a vector's bookkeeping was about 1% of rendering).
  class ElementStack {
   public:
    [[nodiscard]] size_t size() const { return size_; }
    [[nodiscard]] bool empty() const { return size_ == 0; }
    Element& back() { return items_[size_ - 1]; }
    [[nodiscard]] const Element& back() const { return items_[size_ - 1]; }
    Element& at(size_t i) { return items_[i]; }
    void truncate(size_t size) {
      if (size < size_) size_ = size;
    }
    // The new innermost element, holding whatever was there before: set every field.
    Element& push() { return items_[size_++]; }
    void pop_back() { --size_; }
    void clear() { size_ = 0; }

   private:
    std::array<Element, MAX_ELEMENT_DEPTH> items_{};
    size_t size_ = 0;
  };

  // Replay. In outline-only mode the text and outline a template's ops write for one record
  // differ from those for the next record of the same template only where the values go,
  // provided the values have the same types: the rest is names and literal text, and steps
  // whose positions are fixed distances from the pieces around them. So the first instance of
  // a template with values of given types is interpreted and recorded (a Recording), and later
  // ones replay it: copy the literal pieces, format the values, add the steps with their
  // positions moved: records are written in about three quarters of the instructions that
  // interpreting them took (docs/benchmarks.md). Anything a replay does not vouch for (a value that
  // fails to format, a nested fragment that ends unlike the recorded one, the work or size
  // limits) undoes the replay and interprets the instance instead, so a replay writes exactly
  // what interpreting would.
  enum class PieceKind : uint8_t {
    kLiteral,         // text the ops wrote: names, literal attributes and text
    kContent,         // a value as element content
    kAttributeValue,  // a value as an attribute's
    kNested,          // a BinXML value: its fragment rendered in place
  };
  static constexpr uint16_t NO_PIECE = 0xffff;
  static constexpr uint32_t NO_TRACE = UINT32_MAX;
  struct TracePiece {
    PieceKind kind;
    uint16_t index = 0;  // values: the substitution's index
    uint32_t text = 0;   // kLiteral: offset in trace_text_; kNested: its TraceCall
    uint32_t length = 0;  // kLiteral
  };
  // A nested fragment's call: what is done before it, and what it must leave.
  struct TraceCall {
    uint32_t steps_end;  // the trace's steps (and moves) added before the call
    uint32_t moves_end;
    uint32_t work;       // ops counted since the previous call (or the start)
    uint32_t elements_begin, elements_end;  // trace_elements_: elements open at the call
    uint8_t flags_after;  // of the innermost open element, after the call (ElementFlags)
  };
  // An element open at a call, with its positions relative to pieces and steps.
  struct TraceElement {
    Element element;
    uint16_t content_piece, tag_piece;  // content_mark, tag_offset: piece start + offset
    uint32_t outline_step;              // outline_mark: where this step of the trace went
  };
  // A recorded step that is moved: its name and value by the start of its piece (they were
  // recorded as offsets from it), its value length set to the piece's length, and the step left
  // out when that is 0 (the text step of a content value: CloseText adds none for empty text).
  // The other steps are copied as recorded.
  static constexpr uint8_t MOVE_NAME = 1, MOVE_VALUE = 2, LENGTH_OF_PIECE = 4,
                           ONLY_IF_NOT_EMPTY = 8;
  struct TraceMove {
    uint32_t step;  // in trace_steps_
    uint16_t piece;
    uint8_t moves;  // MOVE_NAME...
  };
  struct Trace {
    uint32_t first_op = 0, op_count = 0, value_count = 0;
    uint32_t next = NO_TRACE;  // another trace in the same slot
    // The types of its values, as the instance's descriptors hold them (a descriptor's third
    // byte, as a word's), from trace_types_[types_begin].
    uint32_t types_begin = 0;
    uint32_t pieces_begin = 0, pieces_end = 0;
    uint32_t steps_begin = 0, steps_end = 0;  // trace_steps_ and trace_words_
    uint32_t moves_begin = 0, moves_end = 0;
    uint32_t calls_begin = 0, calls_end = 0;
    uint32_t work = 0;  // ops counted after the last call
    uint32_t depth = 0;  // open elements at the start (and the end)
    uint8_t entry_flags = 0, exit_flags = 0;  // EntryFlags()
    bool unkeyed = false;  // a step without a key (its shape word 0)
    bool usable = true;    // false: these types cannot be replayed; interpret, do not record
  };
  // What a recording notes as the ops run: the pieces that are not literal text.
  struct TraceMark {
    PieceKind kind;
    uint16_t index;
    size_t begin = 0, end = 0;  // text
    size_t step_at = 0;  // kContent: where its text step goes; kNested: outline before
    size_t outline_end = 0, work_begin = 0, work_end = 0;  // kNested
    size_t elements_begin = 0, elements_end = 0;  // kNested: recording_elements_
    uint8_t flags_after = 0;                      // kNested
  };
  struct Recording {
    size_t out_begin, outline_begin, work_begin, depth;
    size_t marks_begin, elements_begin;  // in recording_marks_, recording_elements_
    bool ok = true;  // nothing seen that a replay could not repeat
  };
  // Renderer state an abandoned replay puts back.
  struct RenderState {
    size_t out, outline, values, work, min_depth, piece_at, step_at;
    size_t depth, saved_elements;  // elements_[0, depth) are saved_elements_[saved_elements...]
    bool outline_valid, shape_keyed;
  };
  static uint8_t ElementFlags(const Element& element) {
    return static_cast<uint8_t>(element.start_open | element.has_children << 1 |
                                (element.pieces != 0) << 2);
  }
  // What the ops of a template at the current place depend on: the parent's flags, or at the
  // root whether text was written before.
  uint8_t EntryFlags() const {
    return elements_.empty() ? static_cast<uint8_t>(8 | (out_->size() != 0))
                             : ElementFlags(elements_.back());
  }
  void SetElementFlags(Element& element, uint8_t flags) {
    element.start_open = (flags & 1) != 0;
    element.has_children = (flags & 2) != 0;
    element.pieces = (flags & 4) != 0 ? 1 : 0;
  }
  // The trace of `code` for these values and this place, or null; `variants`: traces of `code`.
  const Trace* FindTrace(const Compiled& code, size_t values_begin, size_t values_end,
                         size_t& variants) const;
  bool Replay(uint32_t trace, size_t values_begin, int nesting);
  void AddReplayedSteps(const Trace& trace, uint32_t from, uint32_t to, uint32_t moves_from,
                        uint32_t moves_to, size_t piece_base, size_t step_base);
  bool InterpretRecording(const Compiled& code, size_t values_begin, size_t values_end,
                          int nesting);
  void StoreTrace(const Compiled& code, size_t values_begin, size_t values_end,
                  const Recording& recording, uint8_t entry_flags, bool usable);
  bool BuildTrace(Trace& trace, const Recording& recording);
  void RecordValue(PieceKind kind, uint16_t index, size_t begin, size_t end, size_t step_at);
  bool RecordNested(uint16_t index, const Value& value, int nesting);
  RenderState SaveState();
  void RestoreState(const RenderState& state);
  void ClearTraces();
  [[nodiscard]] size_t TraceFootprint() const;

  bool Fail(const char* message) {
    error_ = message;
    return false;
  }
  // One rendering of the record, with or without the markup (`compact`).
  bool RenderOnce(uint32_t begin, uint32_t end, TextBuffer& out,
                  std::vector<OutlineStep>* outline, bool compact);
  bool RenderFragment(uint32_t begin, uint32_t end, int nesting);
  bool RenderTemplateInstance(uint32_t& pos, uint32_t end, int nesting);
  // Compiles the token stream [begin, end) into ops; returns the cache entry's index.
  bool Compile(uint32_t begin, uint32_t end, uint32_t key, bool in_template, size_t& entry);
  // Compile(), or the ops an earlier chunk compiled from a stream that reads the same.
  bool CompileOrReuse(uint32_t begin, uint32_t end, uint32_t key, bool in_template,
                      size_t& entry);
  // Writes to canonical_ what Compile() reads of [begin, end): `content`, the bytes written
  // (valid until the next call); `tokens`, how many tokens it reads.
  bool CanonicalContent(uint32_t begin, uint32_t end, bool in_template, size_t& tokens,
                        std::string_view& content);
  bool ReadName(uint32_t offset, uint32_t& pos, uint32_t end, uint32_t& text, uint32_t& length);
  // Runs the ops of `code` with values [values_begin, values_end): by replay when a trace fits,
  // else by Interpret (recording it when none was made for these types yet).
  bool Execute(const Compiled& code, size_t values_begin, size_t values_end, int nesting);
  bool Interpret(const Compiled& code, size_t values_begin, size_t values_end, int nesting);
  bool OpenElement(const Op& op, uint64_t key);
  void Fuse(size_t ops_begin);
  // Decides the outline keys of the elements of `code`, just compiled.
  void SetElementKeys(Compiled& code, size_t pool_begin, size_t fused_begin);
  void CopyWithinPool(uint32_t text, uint32_t length);
  bool EndElement();
  bool BeginContentPiece();
  size_t OpenText();
  void CloseText(size_t mark);
  bool BeginAttributePiece();
  void WriteAttributeName();
  bool FinishAttribute();
  bool Substitute(const Op& op, const Value& value, int nesting);
  bool FailValue(const Value& value);
  bool WriteArray(const Value& value);
  void Indent(size_t depth);
  // Appends an outline step and its word of the shape (outline_shape; 0: no key).
  void Outline(uint8_t kind, size_t name, size_t name_length, size_t value, size_t value_length,
               uint64_t shape_word, uint8_t flags = 0) {
    if (outline_ != nullptr) {
      if (name_length > UINT16_MAX) OutlineUnreadable();
      outline_->push_back(OutlineStep{kind, flags, static_cast<uint16_t>(name_length),
                                      static_cast<uint32_t>(name), static_cast<uint32_t>(value),
                                      static_cast<uint32_t>(value_length)});
      shape_words_.push_back(shape_word);
      if (shape_word == 0) shape_keyed_ = false;
    }
  }
  // The shape word of a step known by its kind (and a place): keys are 2^63 and up with bits
  // 41 to 62 clear, or below 2^55, so these words are never keys.
  static constexpr uint64_t KindWord(uint8_t kind, uint64_t place = 0) {
    return uint64_t{kind} << 56 | place;
  }
  // The text just written cannot be read back as written: no outline for this record.
  void OutlineUnreadable() { outline_valid_ = false; }

  const uint8_t* chunk_ = nullptr;
  size_t size_ = 0;
  // Which SetChunk this is, unique in the process: the high bits of the elements' outline keys.
  uint64_t chunk_serial_ = 0;
  std::vector<Op> ops_;
  std::vector<FusedAttribute> fused_;
  TextBuffer pool_;  // names and literal text of the compiled ops
  std::vector<uint32_t> key_content_;  // SetElementKeys' working copy of a template's content
  // Ids of templates this renderer has met, by their content's hash (see SetElementKeys).
  struct KnownTemplate {
    uint64_t low = 0, high = 0;  // the hash
    uint64_t id = 0;             // 0: none
  };
  static constexpr size_t KNOWN_TEMPLATES = 64;
  std::array<KnownTemplate, KNOWN_TEMPLATES> known_templates_{};
  std::vector<Compiled> templates_;  // this chunk's, looked up by `key`
  // Compiled templates by the hash of their canonical content (CanonicalContent), from this
  // chunk and earlier ones; sets of two, the one used last first, so that two templates of a
  // log whose hashes share a set do not evict each other chunk after chunk. Only templates
  // keyed by content are kept (their element keys hold in any chunk).
  struct ReusableTemplate {
    uint64_t low = 0, high = 0;
    bool used = false;
    Compiled code;
  };
  static constexpr size_t REUSABLE_TEMPLATES = 1024;  // in sets of two
  static_assert(REUSABLE_TEMPLATES >= 2 && (REUSABLE_TEMPLATES & (REUSABLE_TEMPLATES - 1)) == 0);
  std::vector<ReusableTemplate> reusable_;
  std::vector<uint8_t> canonical_;  // CanonicalContent's storage
  size_t templates_reused_ = 0;
  std::vector<Value> values_;
  ElementStack elements_;
  TextBuffer* out_ = nullptr;
  std::vector<OutlineStep>* outline_ = nullptr;
  bool outline_valid_ = true;
  std::vector<uint64_t> shape_words_;  // one per step of outline_
  bool shape_keyed_ = true;            // every word of shape_words_ is a key or a kind word
  OutlineShapeId outline_shape_;
  uint64_t attribute_key_ = 0;  // the outline key of the attribute being written
  bool outline_only_ = false;  // set_outline_only
  bool compact_ = false;       // this record is written without markup
  size_t attribute_at_ = 0;  // where the written attribute's ` Name="` starts in the output
  bool in_start_tag_ = false;  // between an element's name and its close-start token
  // Attribute being written: its name is pending until a non-null value shows up.
  bool in_attribute_ = false;
  bool attribute_written_ = false;
  bool attribute_omitted_ = false;  // an optional substitution had no value
  uint8_t attribute_pieces_ = 0;
  bool dropping_ = false;  // the current element is being removed (optional, no value)
  size_t work_ = 0;        // ops executed for the current record
  size_t output_limit_ = DEFAULT_OUTPUT_LIMIT;
  bool over_limit_ = false;
  uint32_t attribute_name_ = 0;
  uint32_t attribute_length_ = 0;
  // Replay (see Execute): traces found by their template's first op, direct-mapped.
  bool replay_ = true;
  static constexpr size_t TRACE_SLOTS = 4096;
  static constexpr size_t TRACES_PER_TEMPLATE = 4;
  // What traces may hold before all are dropped (at the next SetChunk).
  // (All the sample logs' traces take about 0.7 MB; these bound a renderer's at about 10 MB.)
  static constexpr size_t KEPT_TRACES = 1 << 13;
  static constexpr size_t KEPT_TRACE_STEPS = size_t{1} << 18;
  static constexpr size_t KEPT_TRACE_TEXT = size_t{2} << 20;
  std::vector<uint32_t> trace_slots_;
  std::vector<Trace> traces_;
  std::vector<TracePiece> trace_pieces_;
  std::vector<OutlineStep> trace_steps_;  // as recorded, moved fields as offsets
  std::vector<uint64_t> trace_words_;      // their shape words
  std::vector<TraceMove> trace_moves_;
  std::vector<TraceCall> trace_calls_;
  std::vector<TraceElement> trace_elements_;
  std::vector<uint32_t> trace_types_;
  // The value descriptors of the template instance being executed (null for a plain
  // fragment): FindTrace compares their types with a trace's.
  const uint8_t* instance_descriptors_ = nullptr;
  TextBuffer trace_text_;
  // Where each piece of the replays in progress started (and each trace step's outline place),
  // one stretch per replay, innermost last.
  std::vector<size_t> piece_at_;
  std::vector<uint32_t> step_at_;
  // The open elements at the start of each replay in progress: a nested fragment that closes
  // elements it did not open may overwrite them before the replay gives up.
  std::vector<Element> saved_elements_;
  Recording* recording_ = nullptr;  // of the Execute running now, if recording
  std::vector<TraceMark> recording_marks_;
  std::vector<Element> recording_elements_;
  // The fewest open elements since it was last set: a recording or replay sees by it whether a
  // fragment closed elements it had not opened.
  size_t min_depth_ = 0;
  size_t instances_replayed_ = 0;
  size_t replays_abandoned_ = 0;
  const char* error_ = "";
  char error_buffer_[80] = {};
};

}  // namespace yagura::event::binxml
