// SPDX-License-Identifier: BSD-3-Clause
#include <gtest/gtest.h>

#include <cerrno>

#include "fake_system.h"
#include "pam_keyinit/credentials.h"

namespace pam_keyinit::test {
namespace {

constexpr ThreadIds root_ids{0, 0, 0, 0, 0, 0, 0, 0};
constexpr UserIds alice{1000, 1000};

TEST(ActingAsUser, SwitchesRealIdsOnlyAndRestoresExactly) {
    FakeSystem fake;
    fake.ids = {0, 0, 5, 0, 0, 7, 0, 0};  // odd saved IDs must come back too
    Log log(fake.system(), fake.pamh());
    {
        ActingAsUser as_user(fake.system(), log);
        ASSERT_EQ(as_user.enter(alice), 0);
        EXPECT_EQ(fake.ids, (ThreadIds{1000, 0, 5, 1000, 0, 7, 0, 0}));
        EXPECT_TRUE(as_user.restore());
        EXPECT_EQ(fake.ids, (ThreadIds{0, 0, 5, 0, 0, 7, 0, 0}));
        EXPECT_TRUE(as_user.restore()) << "restore is idempotent";
    }
    EXPECT_EQ(fake.ids, (ThreadIds{0, 0, 5, 0, 0, 7, 0, 0}));
    EXPECT_TRUE(fake.log.empty());
}

TEST(ActingAsUser, DestructorRestores) {
    FakeSystem fake;
    Log log(fake.system(), fake.pamh());
    {
        ActingAsUser as_user(fake.system(), log);
        ASSERT_EQ(as_user.enter(alice), 0);
    }
    EXPECT_EQ(fake.ids, root_ids);
}

TEST(ActingAsUser, LeavesMatchingIdsAlone) {
    FakeSystem fake;
    fake.ids = {1000, 1000, 1000, 1000,
                1000, 1000, 1000, 1000};  // an unprivileged caller, for itself
    Log log(fake.system(), fake.pamh());
    ActingAsUser as_user(fake.system(), log);
    EXPECT_EQ(as_user.enter(alice), 0);
    EXPECT_EQ(fake.count(Step::switch_uids), 0u);
    EXPECT_EQ(fake.count(Step::switch_gids), 0u);
    EXPECT_TRUE(as_user.restore());
}

TEST(ActingAsUser, UnprivilegedCallerCannotBecomeAnother) {
    FakeSystem fake;
    fake.ids = {1001, 1001, 1001, 1001, 1001, 1001, 1001, 1001};
    Log log(fake.system(), fake.pamh());
    ActingAsUser as_user(fake.system(), log);
    EXPECT_EQ(as_user.enter(alice), -EPERM);
    EXPECT_EQ(fake.ids, (ThreadIds{1001, 1001, 1001, 1001, 1001, 1001, 1001, 1001}));
}

TEST(ActingAsUser, FailedGidSwitchChangesNothing) {
    FakeSystem fake;
    fake.fail(Step::switch_gids, EAGAIN);
    Log log(fake.system(), fake.pamh());
    ActingAsUser as_user(fake.system(), log);
    EXPECT_EQ(as_user.enter(alice), -EAGAIN);
    EXPECT_EQ(fake.ids, root_ids);
    EXPECT_EQ(fake.count(Step::switch_uids), 0u);
}

TEST(ActingAsUser, FailedUidSwitchPutsTheGidBack) {
    FakeSystem fake;
    fake.fail(Step::switch_uids, EAGAIN);
    Log log(fake.system(), fake.pamh());
    ActingAsUser as_user(fake.system(), log);
    EXPECT_EQ(as_user.enter(alice), -EAGAIN);
    EXPECT_EQ(fake.ids, root_ids);
}

TEST(ActingAsUser, FailedReadOfIdsSwitchesNothing) {
    FakeSystem fake;
    fake.fail(Step::read_ids, EFAULT);
    Log log(fake.system(), fake.pamh());
    ActingAsUser as_user(fake.system(), log);
    EXPECT_EQ(as_user.enter(alice), -EFAULT);
    EXPECT_EQ(fake.count(Step::switch_gids), 0u);
}

TEST(ActingAsUser, FailedRestoreIsReportedAtCrit) {
    FakeSystem fake;
    fake.fail(Step::restore_uids, EAGAIN);  // the switch works, the restore does not
    Log log(fake.system(), fake.pamh());
    ActingAsUser as_user(fake.system(), log);
    ASSERT_EQ(as_user.enter(alice), 0);
    EXPECT_FALSE(as_user.restore());
    ASSERT_EQ(fake.lines_at(LOG_CRIT).size(), 1u) << fake.log_text();
    EXPECT_NE(fake.lines_at(LOG_CRIT)[0].text.find("cannot restore UIDs 0/0/0"), std::string::npos)
        << fake.log_text();
    EXPECT_NE(fake.lines_at(LOG_CRIT)[0].text.find("Resource temporarily unavailable"),
              std::string::npos);
    // The GIDs were still put back.
    EXPECT_EQ(fake.ids.rgid, 0u);
}

}  // namespace
}  // namespace pam_keyinit::test
