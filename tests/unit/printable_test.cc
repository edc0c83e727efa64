// SPDX-License-Identifier: BSD-3-Clause
// Untrusted text in log lines (doc/design.md, "Logging").
#include "pam_keyinit/printable.h"

#include <gtest/gtest.h>

#include <string>

namespace pam_keyinit {
namespace {

std::string shown(std::string_view text) {
    return Printable(text).c_str();
}

TEST(Printable, PlainTextStaysAsItIs) {
    EXPECT_EQ(shown("alice"), "alice");
    EXPECT_EQ(shown("_ses"), "_ses");
    EXPECT_EQ(shown(""), "");
    EXPECT_EQ(shown("a b~c"), "a b~c");
}

TEST(Printable, ControlBytesCannotEndOrForgeALine) {
    EXPECT_EQ(shown("evil\nMar  1 00:00:00 host sshd[1]: Accepted"),
              "evil\\x0aMar  1 00:00:00 host sshd[1]: Accepted");
    EXPECT_EQ(shown("a\rb\tc"), "a\\x0db\\x09c");
    EXPECT_EQ(shown("\x1b[31mred"), "\\x1b[31mred");
    EXPECT_EQ(shown(std::string_view("nul\0byte", 8)), "nul\\x00byte");
    EXPECT_EQ(shown("del\x7f"), "del\\x7f");
}

TEST(Printable, QuotesAndBackslashesCannotCloseTheQuotedName) {
    EXPECT_EQ(shown("a\"b"), "a\\\"b");
    EXPECT_EQ(shown("a\\x0a"), "a\\\\x0a");
}

TEST(Printable, WellFormedUtf8StaysButC1ControlsAndBrokenBytesDoNot) {
    EXPECT_EQ(shown("J\xc3\xbcrgen"), "J\xc3\xbcrgen");        // ü
    EXPECT_EQ(shown("\xe2\x82\xac"), "\xe2\x82\xac");          // €
    EXPECT_EQ(shown("\xf0\x9f\x94\x91"), "\xf0\x9f\x94\x91");  // a key
    EXPECT_EQ(shown("\xc2\x9b"
                    "31m"),
              "\\xc2\\x9b31m");                  // CSI, C1
    EXPECT_EQ(shown("\xc2\x85"), "\\xc2\\x85");  // NEL
    EXPECT_EQ(shown("\xff\xfe"), "\\xff\\xfe");
    EXPECT_EQ(shown("\xc3"), "\\xc3");                             // cut short
    EXPECT_EQ(shown("\xc0\xaf"), "\\xc0\\xaf");                    // overlong
    EXPECT_EQ(shown("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // surrogate
    EXPECT_EQ(shown("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
}

TEST(Printable, LongTextIsCutAndSaysSo) {
    const std::string long_name(1000, 'x');
    const std::string text = shown(long_name);
    // Shown bytes of 'x', then "..." (compared in parts: GCC 14's LTO warns
    // falsely, -Wstringop-overflow, on the std::string operator+ here).
    EXPECT_EQ(text.size(), Printable::shown_bytes + 3);
    EXPECT_EQ(text.find_first_not_of('x'), Printable::shown_bytes);
    EXPECT_EQ(text.substr(Printable::shown_bytes), "...");
    const std::string controls(1000, '\n');
    EXPECT_EQ(shown(controls).size(), Printable::shown_bytes * 4 + 3);
}

TEST(Printable, NullIsEmpty) {
    EXPECT_STREQ(Printable(static_cast<const char*>(nullptr)).c_str(), "");
}

}  // namespace
}  // namespace pam_keyinit
