// RFC 6455 framing, the part both benchmark programs need: single-frame messages, no extensions.
//
// Client frames must be masked. The generator masks with the all-zero key, which RFC 6455 allows
// (the key protects caching intermediaries from crafted payloads; there are none on loopback) and
// which spares it an XOR pass per message, so its CPU goes to what it measures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace wsf {

enum opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// Appends one final frame carrying `payload`.
inline void append_frame(std::string& out, std::uint8_t op, std::string_view payload, bool masked) {
  char head[14];
  std::size_t n = 0;
  head[n++] = static_cast<char>(0x80 | op);
  const char mask_bit = masked ? static_cast<char>(0x80) : 0;
  const std::uint64_t len = payload.size();
  if (len < 126) {
    head[n++] = static_cast<char>(mask_bit | static_cast<char>(len));
  } else if (len <= 0xffff) {
    head[n++] = static_cast<char>(mask_bit | 126);
    head[n++] = static_cast<char>(len >> 8);
    head[n++] = static_cast<char>(len);
  } else {
    head[n++] = static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) head[n++] = static_cast<char>(len >> shift);
  }
  if (masked) {
    std::memset(head + n, 0, 4);  // the zero key: see the header comment
    n += 4;
  }
  out.append(head, n);
  out.append(payload);
}

// The close frame's payload: the status code in network order.
inline std::string close_payload(std::uint16_t code) {
  return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
}

struct frame {
  enum status_t { incomplete, ok, bad } status = incomplete;
  std::uint8_t op = 0;
  bool fin = false;
  std::size_t size = 0;  // header + payload bytes consumed
  std::string_view payload;
};

// Parses the frame at the start of [data, data + len); unmasks a masked payload in place.
inline frame parse(char* data, std::size_t len, std::uint64_t max_payload = 64u << 20) {
  frame f;
  if (len < 2) return f;
  const auto* u = reinterpret_cast<const unsigned char*>(data);
  f.fin = (u[0] & 0x80) != 0;
  f.op = u[0] & 0x0f;
  if (u[0] & 0x70) {
    f.status = frame::bad;  // no extension was negotiated
    return f;
  }
  const bool masked = (u[1] & 0x80) != 0;
  std::uint64_t plen = u[1] & 0x7f;
  std::size_t pos = 2;
  if (plen == 126) {
    if (len < 4) return f;
    plen = (std::uint64_t{u[2]} << 8) | u[3];
    pos = 4;
  } else if (plen == 127) {
    if (len < 10) return f;
    plen = 0;
    for (int i = 0; i < 8; ++i) plen = (plen << 8) | u[2 + i];
    pos = 10;
  }
  if (plen > max_payload) {
    f.status = frame::bad;
    return f;
  }
  const std::size_t mask_at = pos;
  if (masked) pos += 4;
  if (len < pos + plen) return f;
  char* payload = data + pos;
  if (masked) {
    const unsigned char* key = u + mask_at;
    if (key[0] | key[1] | key[2] | key[3]) {
      for (std::uint64_t i = 0; i < plen; ++i) payload[i] = static_cast<char>(payload[i] ^ key[i & 3]);
    }
  }
  f.status = frame::ok;
  f.size = pos + plen;
  f.payload = std::string_view(payload, plen);
  return f;
}

}  // namespace wsf
