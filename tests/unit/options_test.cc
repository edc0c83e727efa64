// SPDX-License-Identifier: BSD-3-Clause
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pam_keyinit/options.h"

namespace pam_keyinit {
namespace {

struct Parsed {
    Options options;
    std::vector<std::string> unknown;
};

Parsed parse(std::vector<const char*> arguments) {
    Parsed parsed;
    parsed.options = parse_options(
        static_cast<int>(arguments.size()), arguments.data(),
        [](void* context, std::string_view argument) {
            static_cast<std::vector<std::string>*>(context)->emplace_back(argument);
        },
        &parsed.unknown);
    return parsed;
}

struct OptionCase {
    std::vector<const char*> arguments;
    Options expected;
    std::vector<std::string> unknown;
};

class OptionTable : public ::testing::TestWithParam<OptionCase> {};

TEST_P(OptionTable, ParsesFlagsAndReportsTheRest) {
    const OptionCase& c = GetParam();
    const Parsed parsed = parse(c.arguments);
    EXPECT_EQ(parsed.options, c.expected);
    EXPECT_EQ(parsed.unknown, c.unknown);
}

INSTANTIATE_TEST_SUITE_P(
    Arguments, OptionTable,
    ::testing::Values(
        OptionCase{{}, {}, {}}, OptionCase{{"debug"}, {.debug = true}, {}},
        OptionCase{{"force"}, {.force = true}, {}}, OptionCase{{"revoke"}, {.revoke = true}, {}},
        OptionCase{{"inherit"}, {.inherit = true}, {}},
        OptionCase{{"persistent"}, {.persistent = true}, {}},
        OptionCase{
            {"debug", "force", "revoke", "inherit", "persistent"},
            {.debug = true, .force = true, .revoke = true, .inherit = true, .persistent = true},
            {}},
        // Repeated options are harmless.
        OptionCase{{"revoke", "revoke", "debug", "debug"}, {.debug = true, .revoke = true}, {}},
        // Misspelt and malformed ones are reported, one by one, in order.
        OptionCase{{"revokee"}, {}, {"revokee"}}, OptionCase{{"debug=1"}, {}, {"debug=1"}},
        OptionCase{{"--force"}, {}, {"--force"}}, OptionCase{{"Force"}, {}, {"Force"}},
        OptionCase{{"force "}, {}, {"force "}}, OptionCase{{""}, {}, {""}},
        OptionCase{{"revoke", "revokee", "force"}, {.force = true, .revoke = true}, {"revokee"}},
        OptionCase{{"debug", "use_authtok", "try_first_pass"},
                   {.debug = true},
                   {"use_authtok", "try_first_pass"}}));

TEST(Options, NullArgumentIsReportedAsEmpty) {
    const Parsed parsed = parse({"force", nullptr});
    EXPECT_EQ(parsed.options, Options{.force = true});
    EXPECT_EQ(parsed.unknown, std::vector<std::string>{""});
}

TEST(Options, NullArgvOrNegativeCountMeansNoArguments) {
    EXPECT_EQ(parse_options(3, nullptr, nullptr, nullptr), Options{});
    const char* arguments[] = {"force"};
    EXPECT_EQ(parse_options(-1, arguments, nullptr, nullptr), Options{});
}

TEST(Options, EmbeddedNulEndsTheArgument) {
    const char argument[] = {'f', 'o', 'r', 'c', 'e', '\0', 'x', '\0'};
    const char* arguments[] = {argument};
    EXPECT_EQ(parse_options(1, arguments, nullptr, nullptr), Options{.force = true});
}

}  // namespace
}  // namespace pam_keyinit
