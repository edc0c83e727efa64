// SPDX-License-Identifier: BSD-3-Clause
// Text from outside the module (user names, keyring descriptions, module
// arguments) made safe for one syslog line: nothing in it can end the line,
// forge another, or drive a terminal (doc/design.md, "Logging").
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace pam_keyinit {

class Printable {
public:
    // At most this many bytes of the text are shown; a longer text ends
    // with "...".
    static constexpr std::size_t shown_bytes = 256;

    // Control bytes (0x00-0x1f, 0x7f), bytes that are not well-formed UTF-8
    // and the UTF-8 form of the C1 controls (U+0080-U+009F) become \xNN;
    // a backslash becomes \\ and a double quote \".
    explicit Printable(std::string_view text) noexcept;
    explicit Printable(const char* text) noexcept
        : Printable(text != nullptr ? std::string_view(text) : std::string_view()) {}

    Printable(const Printable&) = delete;
    Printable& operator=(const Printable&) = delete;

    const char* c_str() const noexcept { return text_.data(); }

private:
    // Four bytes for each byte shown ("\xNN"), "...", and the NUL.
    std::array<char, shown_bytes * 4 + 3 + 1> text_{};
};

}  // namespace pam_keyinit
