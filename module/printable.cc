// SPDX-License-Identifier: BSD-3-Clause
#include "pam_keyinit/printable.h"

namespace pam_keyinit {
namespace {

// The length of the well-formed UTF-8 sequence that starts text (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
std::size_t utf8_sequence(std::string_view text) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        low = lead == 0xe0 ? 0xa0 : 0x80;
        high = lead == 0xed ? 0x9f : 0xbf;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        low = lead == 0xf0 ? 0x90 : 0x80;
        high = lead == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (text.size() < length || byte(1) < low || byte(1) > high) {
        return 0;
    }
    for (std::size_t i = 2; i < length; ++i) {
        if (byte(i) < 0x80 || byte(i) > 0xbf) {
            return 0;
        }
    }
    // U+0080 to U+009F: the C1 controls, which some terminals obey.
    if (lead == 0xc2 && byte(1) <= 0x9f) {
        return 0;
    }
    return length;
}

}  // namespace

Printable::Printable(std::string_view text) noexcept {
    static constexpr char hex[] = "0123456789abcdef";
    const bool cut = text.size() > shown_bytes;
    if (cut) {
        text = text.substr(0, shown_bytes);
    }
    std::size_t out = 0;
    const auto put = [&](char c) { text_[out++] = c; };
    for (std::size_t i = 0; i < text.size();) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte == '\\' || byte == '"') {
            put('\\');
            put(static_cast<char>(byte));
            ++i;
        } else if (byte >= 0x20 && byte < 0x7f) {
            put(static_cast<char>(byte));
            ++i;
        } else if (const std::size_t length = byte >= 0x80 ? utf8_sequence(text.substr(i)) : 0;
                   length > 0) {
            for (std::size_t k = 0; k < length; ++k) {
                put(text[i + k]);
            }
            i += length;
        } else {
            put('\\');
            put('x');
            put(hex[byte >> 4]);
            put(hex[byte & 0xf]);
            ++i;
        }
    }
    if (cut) {
        put('.');
        put('.');
        put('.');
    }
    text_[out] = '\0';
}

}  // namespace pam_keyinit
