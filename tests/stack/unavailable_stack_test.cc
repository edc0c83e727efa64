// SPDX-License-Identifier: BSD-3-Clause
// Kernels and containers without usable keyrings (doc/design.md, "Failures"): a
// seccomp filter in the child makes every keyctl() fail as there.
#include <cstring>

#include "seccomp_filters.h"
#include "stack_support.h"

namespace pam_keyinit::test {
namespace {

struct Unavailable {
    int error;
    int stock_result;  // what Linux-PAM returns for open_session
};

class KeyringsUnavailable : public ::testing::TestWithParam<Unavailable> {
protected:
    void SetUp() override { PAM_KEYINIT_REQUIRE_ROOT(); }
};

TEST_P(KeyringsUnavailable, OursOpensAndClosesWithOneLine) {
    run_in_child([&] {
        auto log = catch_syslog();
        ASSERT_TRUE(fail_every_keyctl(GetParam().error));
        PamTransaction pam(service(Module::ours, "force-revoke"), alice().name);
        EXPECT_EQ(pam.open_session(), PAM_SUCCESS);
        EXPECT_EQ(pam.close_session(), PAM_SUCCESS);
        const auto lines = log.take();
        const auto unavailable = matching(lines, "kernel keyrings are unavailable");
        ASSERT_EQ(unavailable.size(), 1u) << to_string(lines);
        EXPECT_EQ(unavailable[0].priority, LOG_INFO);
        EXPECT_TRUE(unavailable[0].contains(std::strerror(GetParam().error)))
            << unavailable[0].text;
        for (const LogLine& line : lines) {
            EXPECT_GT(line.priority, LOG_WARNING) << "not an error: " << line.text;
        }
    });
}

TEST_P(KeyringsUnavailable, StockModuleMeasured) {
    run_in_child([&] {
        auto log = catch_syslog();
        ASSERT_TRUE(fail_every_keyctl(GetParam().error));
        PamTransaction pam(service(Module::stock, "force-revoke"), alice().name);
        EXPECT_EQ(pam.open_session(), GetParam().stock_result) << to_string(log.take());
    });
}

// EPERM is what Docker's and systemd-nspawn's seccomp filters return; with
// force, Linux-PAM goes straight to the join and fails the session on either.
INSTANTIATE_TEST_SUITE_P(Stack, KeyringsUnavailable,
                         ::testing::Values(Unavailable{EPERM, PAM_SESSION_ERR},
                                           Unavailable{ENOSYS, PAM_SESSION_ERR}),
                         [](const auto& test_info) {
                             return std::string(test_info.param.error == EPERM ? "EPERM"
                                                                               : "ENOSYS");
                         });

}  // namespace
}  // namespace pam_keyinit::test
