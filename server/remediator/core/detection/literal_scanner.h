// LiteralScanner: finds occurrences of a fixed set of literals in text, ASCII case-insensitively,
// at several GB/s. It is the prefilter in front of RE2 in LineMatcher (line_matcher.h).
//
// Contract:
//   - Literals are at least 3 bytes long and are matched ignoring ASCII case (RE2's FilteredRE2
//     produces lower-case atoms, so the scanner folds case; non-ASCII bytes must match exactly).
//   - Every occurrence is reported at least once: the scanner never misses a literal that occurs
//     in the text (it is exact after verification; the SIMD fingerprint only drops positions that
//     cannot start any literal).
//   - Immutable after construction; all const methods are thread-safe.
//
// Algorithm (reasons in literal_scanner.cc): a "Teddy"-style fingerprint over a 4-byte window
// (3 when a literal is that short) of each literal, computed 32 positions at a time with AVX2
// nibble lookups when the CPU has AVX2 (runtime check), with a table-driven scalar path otherwise;
// candidate positions are verified against the literals of their bucket.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_LITERAL_SCANNER_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_LITERAL_SCANNER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace remediator::detection {

class LiteralScanner {
 public:
  static constexpr size_t kNotFound = static_cast<size_t>(-1);
  static constexpr size_t kMinLiteralLength = 3;

  // `literals` must each have at least kMinLiteralLength bytes (shorter ones are ignored and
  // never reported). Literal ids are the positions in this vector.
  // `allow_simd` = false forces the portable scalar path (tests compare both).
  explicit LiteralScanner(const std::vector<std::string>& literals, bool allow_simd = true);

  // Looks for a literal that lies entirely inside text[lo, text.size()) and whose fingerprint
  // window starts at or after `from` (from >= lo). Returns the start offset of the literal found
  // and sets *literal_id, or returns kNotFound. Which occurrence is returned when several exist is
  // unspecified (the first one whose window the scan reaches); use FindAll to enumerate.
  size_t Find(std::string_view text, size_t lo, size_t from, int* literal_id) const;

  // True when at least one literal occurs in `text`.
  bool Contains(std::string_view text) const;

  // Sets *ids to the distinct ids of the literals occurring in `text`, ascending.
  void FindAll(std::string_view text, std::vector<int>* ids) const;

  size_t size() const { return literals_.size(); }
  bool uses_avx2() const { return use_avx2_; }

 private:
  struct Literal {
    std::string text;  // lower-cased
    size_t window;     // offset of the fingerprint window inside the literal
    // First min(4, size) bytes: (load | fold) == key is the exact case-insensitive test.
    uint32_t key = 0;
    uint32_t fold = 0;
    uint32_t key_mask = 0;
  };
  static constexpr int kBuckets = 16;  // two SIMD masks of 8 buckets each
  static constexpr int kMaxWindow = 4;

  // A verified occurrence: literal index (into literals_) and start offset. Returns true to stop.
  using HitFn = bool (*)(void* ctx, int index, size_t start);

  // Verifies the literals of the buckets in `bucket_bits` for a fingerprint hit at window
  // position `pos`, calling hit() for each; returns true when hit() asked to stop.
  bool Verify(const unsigned char* text, size_t lo, size_t end, size_t pos, unsigned bucket_bits,
              HitFn hit, void* ctx) const;
  bool ScanScalar(const unsigned char* text, size_t lo, size_t from, size_t end, HitFn hit,
                  void* ctx) const;
  template <int kWindow>
  bool ScanAvx2(const unsigned char* text, size_t lo, size_t from, size_t end, HitFn hit,
                void* ctx) const;
  bool Scan(std::string_view text, size_t lo, size_t from, HitFn hit, void* ctx) const;

  std::vector<Literal> literals_;
  std::vector<int> ids_;  // literals_ index -> caller's literal id
  std::array<std::vector<int>, kBuckets> buckets_;
  // Fingerprint window length: 4, or 3 when some literal has only 3 bytes.
  int window_len_ = kMaxWindow;
  // Nibble tables for the SIMD path: [window byte][16], over bytes OR 0x20.
  // [mask: buckets 0-7, 8-15][window byte][nibble]
  alignas(16) uint8_t lo_nibble_[2][kMaxWindow][16] = {};
  alignas(16) uint8_t hi_nibble_[2][kMaxWindow][16] = {};
  // Exact (case-folded) tables for the scalar path; a 3-byte window leaves table 3 all ones.
  uint16_t byte_table_[kMaxWindow][256] = {};
  bool use_avx2_ = false;
};

}  // namespace remediator::detection

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_LITERAL_SCANNER_H_
