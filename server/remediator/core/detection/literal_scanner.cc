// Why a Teddy-style fingerprint: Hyperscan is not available here and RE2::Set tops out around
// 0.7 GB/s on the 20 benchmark patterns (perf-anchors.md §6.2). The patterns' required literals
// are rare in normal logs, so a fingerprint that rejects almost every position cheaply, followed
// by an exact check, runs near memory speed; RE2 then only sees the ~1 % of lines that contain a
// literal.
//
// Each literal gets a 4-byte window (the rarest by a fixed byte-frequency guess, so that common
// prefixes such as `"level":` do not dominate) and one of 16 buckets (literals with similar
// windows share one). For every text position p the fingerprint is AND over k=0..3 of
// table_k[text[p+k]], 16 bits of buckets; non-zero means "some literal of these buckets may have
// its window at p", which Verify then checks exactly. The SIMD path computes it for 32 positions
// at once with PSHUFB nibble lookups (two 8-bucket masks, two lookups per window byte and mask),
// on bytes OR 0x20, which folds ASCII case and keeps the test a superset of the exact one. 16
// rather than 8 buckets: fewer literals per bucket means far fewer false candidates, which cost
// more than the extra shuffles. The scalar path uses full 256-entry tables.
#include "server/remediator/core/detection/literal_scanner.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <numeric>

namespace remediator::detection {
namespace {

unsigned char Lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// Rough frequency of a byte in log text: higher = more common = worse fingerprint.
int ByteCost(unsigned char c) {
  static constexpr char kLetters[] = "zqxjkvbpygfwmucldrhsnioate";  // rare -> common
  c = Lower(c);
  if (c >= 'a' && c <= 'z') {
    return static_cast<int>(std::strchr(kLetters, c) - kLetters) + 4;
  }
  if (c == ' ') return 34;
  if (c >= '0' && c <= '9') return 24;
  if (std::strchr("\":=,.-/_", c) != nullptr) return 20;
  return 6;
}

bool HasAvx2() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

}  // namespace

LiteralScanner::LiteralScanner(const std::vector<std::string>& literals, bool allow_simd) {
  for (const std::string& text : literals) {
    if (text.size() >= kMinLiteralLength && text.size() < static_cast<size_t>(window_len_)) {
      window_len_ = static_cast<int>(text.size());
    }
  }
  const size_t w = static_cast<size_t>(window_len_);
  for (size_t i = 0; i < literals.size(); ++i) {
    const std::string& text = literals[i];
    if (text.size() < kMinLiteralLength) continue;
    Literal lit;
    lit.text.resize(text.size());
    std::transform(text.begin(), text.end(), lit.text.begin(),
                   [](char c) { return static_cast<char>(Lower(static_cast<unsigned char>(c))); });
    int best = 1 << 30;
    for (size_t k = 0; k + w <= text.size(); ++k) {
      int cost = 0;
      for (size_t j = 0; j < w; ++j) cost += ByteCost(static_cast<unsigned char>(text[k + j]));
      if (cost < best) {
        best = cost;
        lit.window = k;
      }
    }
    for (size_t j = 0; j < 4 && j < lit.text.size(); ++j) {
      const unsigned char c = static_cast<unsigned char>(lit.text[j]);
      lit.key |= static_cast<uint32_t>(c) << (8 * j);
      lit.key_mask |= 0xffu << (8 * j);
      if (c >= 'a' && c <= 'z') lit.fold |= 0x20u << (8 * j);
    }
    literals_.push_back(std::move(lit));
    ids_.push_back(static_cast<int>(i));
  }
  // Bucket literals with similar windows together so that each bucket's nibble sets stay small.
  std::vector<int> order(literals_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return literals_[a].text.compare(literals_[a].window, w, literals_[b].text, literals_[b].window,
                                     w) < 0;
  });
  const size_t per_bucket = (order.size() + kBuckets - 1) / kBuckets;
  if (w < static_cast<size_t>(kMaxWindow)) {
    for (uint16_t& v : byte_table_[kMaxWindow - 1]) v = 0xffff;
  }
  for (size_t i = 0; i < order.size(); ++i) {
    const int bucket = static_cast<int>(i / std::max<size_t>(per_bucket, 1));
    buckets_[bucket].push_back(order[i]);
    const Literal& lit = literals_[order[i]];
    const int mask = bucket / 8;
    const uint8_t bit = static_cast<uint8_t>(1u << (bucket % 8));
    for (size_t k = 0; k < w; ++k) {
      const unsigned char c = static_cast<unsigned char>(lit.text[lit.window + k]);
      const unsigned char folded = c | 0x20;
      lo_nibble_[mask][k][folded & 0x0f] |= bit;
      hi_nibble_[mask][k][folded >> 4] |= bit;
      byte_table_[k][c] |= static_cast<uint16_t>(1u << bucket);
      if (c >= 'a' && c <= 'z') byte_table_[k][c - 32] |= static_cast<uint16_t>(1u << bucket);
    }
  }
  use_avx2_ = allow_simd && HasAvx2() && !literals_.empty();
}

bool LiteralScanner::Verify(const unsigned char* text, size_t lo, size_t end, size_t pos,
                            unsigned bucket_bits, HitFn hit, void* ctx) const {
  while (bucket_bits != 0) {
    const int bucket = __builtin_ctz(bucket_bits);
    bucket_bits &= bucket_bits - 1;
    for (int index : buckets_[bucket]) {
      const Literal& lit = literals_[index];
      if (pos < lo + lit.window) continue;
      const size_t start = pos - lit.window;
      if (start + lit.text.size() > end) continue;
      const unsigned char* s = text + start;
      uint32_t head = 0;
      if (lit.text.size() >= 4) {
        std::memcpy(&head, s, 4);
      } else {
        std::memcpy(&head, s, 3);
      }
      if (((head | lit.fold) & lit.key_mask) != lit.key) continue;
      const char* l = lit.text.data();
      size_t j = 4;
      for (; j < lit.text.size(); ++j) {
        if (Lower(s[j]) != static_cast<unsigned char>(l[j])) break;
      }
      if (j >= lit.text.size() && hit(ctx, index, start)) return true;
    }
  }
  return false;
}

bool LiteralScanner::ScanScalar(const unsigned char* text, size_t lo, size_t from, size_t end,
                                HitFn hit, void* ctx) const {
  const size_t w = static_cast<size_t>(window_len_);
  for (size_t p = from; p + w <= end; ++p) {
    unsigned bits =
        byte_table_[0][text[p]] & byte_table_[1][text[p + 1]] & byte_table_[2][text[p + 2]];
    if (bits != 0 && w == 4) bits &= byte_table_[3][text[p + 3]];
    if (bits != 0 && Verify(text, lo, end, p, bits, hit, ctx)) return true;
  }
  return false;
}

template <int kWindow>
__attribute__((target("avx2"))) bool LiteralScanner::ScanAvx2(const unsigned char* text, size_t lo,
                                                              size_t from, size_t end, HitFn hit,
                                                              void* ctx) const {
  const __m256i fold = _mm256_set1_epi8(0x20);
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  const __m256i zero = _mm256_setzero_si256();
  __m256i lo_t[2][kWindow], hi_t[2][kWindow];
  for (int m = 0; m < 2; ++m) {
    for (int k = 0; k < kWindow; ++k) {
      lo_t[m][k] = _mm256_broadcastsi128_si256(
          _mm_load_si128(reinterpret_cast<const __m128i*>(lo_nibble_[m][k])));
      hi_t[m][k] = _mm256_broadcastsi128_si256(
          _mm_load_si128(reinterpret_cast<const __m128i*>(hi_nibble_[m][k])));
    }
  }
  size_t p = from;
  alignas(32) uint8_t lanes[2][32];
  while (p + 32 + (kWindow - 1) <= end) {
    __m256i acc0 = _mm256_set1_epi8(static_cast<char>(0xff));
    __m256i acc1 = acc0;
    for (int k = 0; k < kWindow; ++k) {
      const __m256i v =
          _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(text + p + k)), fold);
      const __m256i lo_n = _mm256_and_si256(v, nibble);
      const __m256i hi_n = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
      acc0 = _mm256_and_si256(acc0, _mm256_and_si256(_mm256_shuffle_epi8(lo_t[0][k], lo_n),
                                                     _mm256_shuffle_epi8(hi_t[0][k], hi_n)));
      acc1 = _mm256_and_si256(acc1, _mm256_and_si256(_mm256_shuffle_epi8(lo_t[1][k], lo_n),
                                                     _mm256_shuffle_epi8(hi_t[1][k], hi_n)));
    }
    uint32_t mask = ~static_cast<uint32_t>(
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_or_si256(acc0, acc1), zero)));
    if (mask != 0) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[0]), acc0);
      _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[1]), acc1);
      while (mask != 0) {
        const int j = __builtin_ctz(mask);
        mask &= mask - 1;
        const unsigned bits = lanes[0][j] | (static_cast<unsigned>(lanes[1][j]) << 8);
        if (Verify(text, lo, end, p + j, bits, hit, ctx)) return true;
      }
    }
    p += 32;
  }
  return ScanScalar(text, lo, p, end, hit, ctx);
}

bool LiteralScanner::Scan(std::string_view text, size_t lo, size_t from, HitFn hit,
                          void* ctx) const {
  if (literals_.empty() || from >= text.size()) return false;
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  if (use_avx2_) {
    return window_len_ == 4 ? ScanAvx2<4>(data, lo, from, text.size(), hit, ctx)
                            : ScanAvx2<3>(data, lo, from, text.size(), hit, ctx);
  }
  return ScanScalar(data, lo, from, text.size(), hit, ctx);
}

size_t LiteralScanner::Find(std::string_view text, size_t lo, size_t from, int* literal_id) const {
  struct Ctx {
    const LiteralScanner* self;
    size_t start = kNotFound;
    int* id;
  } ctx{this, kNotFound, literal_id};
  Scan(
      text, lo, from,
      [](void* c, int index, size_t start) {
        auto* x = static_cast<Ctx*>(c);
        x->start = start;
        *x->id = x->self->ids_[index];
        return true;
      },
      &ctx);
  return ctx.start;
}

bool LiteralScanner::Contains(std::string_view text) const {
  int id = 0;
  return Find(text, 0, 0, &id) != kNotFound;
}

void LiteralScanner::FindAll(std::string_view text, std::vector<int>* ids) const {
  ids->clear();
  struct Ctx {
    const LiteralScanner* self;
    std::vector<int>* ids;
  } ctx{this, ids};
  Scan(
      text, 0, 0,
      [](void* c, int index, size_t) {
        auto* x = static_cast<Ctx*>(c);
        x->ids->push_back(x->self->ids_[index]);
        return false;
      },
      &ctx);
  std::sort(ids->begin(), ids->end());
  ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
}

}  // namespace remediator::detection
