// SPDX-License-Identifier: BSD-3-Clause
#include <gtest/gtest.h>

#include "pam_keyinit/key_description.h"

namespace pam_keyinit {
namespace {

TEST(KeyDescription, ParsesKernelFormat) {
    const auto parsed = parse_key_description("keyring;1001;1002;3f030000;_ses");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->type, "keyring");
    EXPECT_EQ(parsed->uid, 1001u);
    EXPECT_EQ(parsed->gid, 1002u);
    EXPECT_EQ(parsed->permissions, 0x3f030000u);
    EXPECT_EQ(parsed->name, "_ses");
}

TEST(KeyDescription, KeepsSemicolonsInTheName) {
    const auto parsed = parse_key_description("user;0;0;1f010000;a;b;c");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->name, "a;b;c");
}

TEST(KeyDescription, IgnoresTheTerminatingNul) {
    const std::string text("keyring;0;65534;1f3f0000;_uid_ses.0\0", 37);
    const auto parsed = parse_key_description(text);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->gid, 65534u);
    EXPECT_EQ(parsed->name, "_uid_ses.0");
}

TEST(KeyDescription, AcceptsTheLargestIds) {
    const auto parsed = parse_key_description("keyring;4294967295;4294967295;ffffffff;");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->uid, 4294967295u);
    EXPECT_EQ(parsed->name, "");
}

// What a real kernel prints for UID and GID 4000000000 (measured on
// Debian 12's 6.1 kernels): keyctl_describe formats IDs with "%d".
TEST(KeyDescription, ReadsIdsThatTheKernelPrintsAsNegative) {
    const auto parsed = parse_key_description("keyring;-294967296;-294967296;3f030000;_ses");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->uid, 4000000000u);
    EXPECT_EQ(parsed->gid, 4000000000u);
    const auto extremes = parse_key_description("keyring;-2147483648;-1;3f030000;_ses");
    ASSERT_TRUE(extremes);
    EXPECT_EQ(extremes->uid, 2147483648u);
    EXPECT_EQ(extremes->gid, 4294967295u);
}

TEST(KeyDescription, RejectsMalformedText) {
    for (const char* text :
         {"", "keyring", "keyring;0;0;3f", ";0;0;3f030000;x", "keyring;-0;0;3f030000;x",
          "keyring;-2147483649;0;3f030000;x", "keyring;--1;0;3f030000;x", "keyring;-;0;3f030000;x",
          "keyring;0;0;-3f030000;x", "keyring;+1;0;3f030000;x", "keyring; 1;0;3f030000;x",
          "keyring;1x;0;3f030000;x", "keyring;4294967296;0;3f030000;x", "keyring;0;0;xyz;x",
          "keyring;0;0;1ffffffff;x", "keyring;;0;3f030000;x"}) {
        EXPECT_FALSE(parse_key_description(text)) << text;
    }
}

}  // namespace
}  // namespace pam_keyinit
