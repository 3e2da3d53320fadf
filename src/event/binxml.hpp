// BinXML rendering: the XML text of an EVTX record, written directly from the chunk's bytes.
//
// A record's BinXML is (almost always) a template instance: a reference to a template
// definition stored once per chunk plus an array of substitution values. Each definition is
// compiled into a flat list of operations (element and attribute names already converted to
// UTF-8, literal text already escaped, substitution slots), found by its chunk offset within the
// chunk, and reused by later chunks whose definition reads the same (every chunk of a log
// defines its templates again); rendering a record then walks that list and formats only the
// record's values. Nested BinXML values (type 0x21, e.g. UserData) are rendered recursively up
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
  uint8_t kind = 0;
  uint8_t flags = 0;
  uint16_t name_length = 0;  // kOpen, kAttribute
  uint32_t name = 0;
  uint32_t value = 0;  // kAttribute, kText; kOpen: the key's low half
  uint32_t value_length = 0;  // kAttribute, kText; kOpen: the key's high half

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
static_assert(sizeof(OutlineStep) == 16);

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
  // Bytes of storage held (all of it reused): stays put once warm, which is how tests see that
  // rendering does not allocate.
  [[nodiscard]] size_t footprint() const {
    return ops_.capacity() * sizeof(Op) + fused_.capacity() * sizeof(FusedAttribute) +
           pool_.capacity() + templates_.capacity() * sizeof(Compiled) +
           values_.capacity() * sizeof(Value) +
           reusable_.capacity() * sizeof(ReusableTemplate) + canonical_.capacity();
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
    // The new innermost element, holding whatever was there before: set every field.
    Element& push() { return items_[size_++]; }
    void pop_back() { --size_; }
    void clear() { size_ = 0; }

   private:
    std::array<Element, MAX_ELEMENT_DEPTH> items_{};
    size_t size_ = 0;
  };

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
  bool Execute(const Compiled& code, size_t values_begin, size_t values_end, int nesting);
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
  // chunk and earlier ones; direct-mapped. Only templates keyed by content are kept (their
  // element keys hold in any chunk).
  struct ReusableTemplate {
    uint64_t low = 0, high = 0;
    bool used = false;
    Compiled code;
  };
  static constexpr size_t REUSABLE_TEMPLATES = 1024;
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
  const char* error_ = "";
  char error_buffer_[80] = {};
};

}  // namespace yagura::event::binxml
