// SPDX-License-Identifier: BSD-3-Clause
// The per-user key quota (kernel.keys.maxkeys, 200 by default): a user whose
// quota is full cannot be given a new session keyring of its own. A login
// started by a root service (su -l, runuser -l, cron) must not go on in the
// service's root-owned keyring, where the user would possess root's keys:
// the module joins a keyring owned by and charged to root that only this
// session possesses, links the user's keyring into it, and says so in one
// warning (doc/design.md, "Decision rules"). Once the keys are gone,
// sessions get keyrings of their own again.
#include <gtest/gtest.h>
#include <keyutils.h>
#include <syslog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "fault_stack.h"
#include "stack_support.h"

namespace pam_keyinit::test {
namespace {

// Runs body with the thread's real, effective (and so file system) IDs the
// user's, so that keys it adds are the user's and charged to the user.
template <typename Body>
void as_user(const TestUser& user, Body body) {
    const ThreadIds before = thread_ids();
    set_thread_ids({user.uid, user.uid, 0, user.gid, user.gid, 0, user.uid, user.gid});
    body();
    set_thread_ids(before);
}

// Empties the user's "_uid.<UID>" keyring and waits for the kernel's
// garbage collector to free what it held.
void empty_user_keyring(const TestUser& user, unsigned at_most_keys) {
    as_user(user, [] { keyctl_clear(KEY_SPEC_USER_KEYRING); });
    for (int waited = 0; waited < 200 && key_quota(user.uid).keys > at_most_keys; ++waited) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

TEST(KeyQuota, FullQuotaGetsAKeyringOfRootsThatOnlyTheSessionPossesses) {
    PAM_KEYINIT_REQUIRE_ROOT();
    run_in_child([] {
        auto log = catch_syslog();
        const TestUser& user = quota_user();
        // Whatever an earlier run left in the user's keyring goes first: user
        // keyrings outlive processes.
        empty_user_keyring(user, 10);
        const KeyQuota start = key_quota(user.uid);
        ASSERT_GT(start.max_keys, 0u) << "no line for uid " << user.uid << " in /proc/key-users";

        start_in_root_keyring();
        const key_serial_t marker =
            add_key("user", "pkt-quota-marker", "x", 1, KEY_SPEC_SESSION_KEYRING);
        ASSERT_GT(marker, 0) << std::strerror(errno);

        int added = 0;
        int error = 0;
        as_user(user, [&] {
            for (int i = 0; i < 100000; ++i) {
                const std::string name = "pkt-fill-" + std::to_string(i);
                if (add_key("user", name.c_str(), "x", 1, KEY_SPEC_USER_KEYRING) < 0) {
                    error = errno;
                    break;
                }
                ++added;
            }
        });
        const KeyQuota full = key_quota(user.uid);
        std::printf("[   INFO   ] uid %u: %d keys added before %s; /proc/key-users: %u/%u keys\n",
                    user.uid, added, strerrorname_np(error), full.keys, full.max_keys);
        ASSERT_EQ(error, EDQUOT);
        EXPECT_EQ(full.keys, full.max_keys);

        const ThreadIds before = thread_ids();
        const key_serial_t service_keyring = session_keyring();
        {
            pam_handle_t* pamh = start_fault_service(user.name);
            ASSERT_NE(pamh, nullptr);
            const int opened = pam_open_session(pamh, 0);
            const auto lines = log.take();
            EXPECT_EQ(opened, PAM_SUCCESS) << to_string(lines);
            const key_serial_t made = session_keyring();
            ASSERT_NE(made, service_keyring) << "the user must not stay in root's keyring";
            const auto loud = module_lines(lines);
            ASSERT_GE(loud.size(), 1u) << to_string(lines);
            EXPECT_EQ(loud[0].priority, LOG_WARNING);
            EXPECT_TRUE(loud[0].contains(
                "cannot join a new session keyring for user \"pkt-quota\": Disk quota "
                "exceeded; joined keyring " +
                std::to_string(made) + " owned by root instead, which only this session possesses"))
                << loud[0].text;
            for (const auto& line : loud) {
                std::printf("[   INFO   ] logged: <%d> %s\n", line.priority, line.text.c_str());
            }
            EXPECT_EQ(thread_ids(), before);
            const auto key = describe(made);
            ASSERT_TRUE(key) << std::strerror(errno);
            EXPECT_EQ(key->name, "_ses");
            EXPECT_EQ(key->uid, 0u);
            EXPECT_TRUE(find_linked(made, "_uid." + std::to_string(user.uid)));
            const auto linked = contents(made);
            EXPECT_EQ(std::find(linked.begin(), linked.end(), marker), linked.end());
            EXPECT_LT(keyctl_search(KEY_SPEC_SESSION_KEYRING, "user", "pkt-quota-marker", 0), 0)
                << "root's key must be out of the session's reach";
            EXPECT_EQ(pam_close_session(pamh, 0), PAM_SUCCESS) << to_string(log.take());
            EXPECT_EQ(describe_error(made), EKEYREVOKED);
            pam_end(pamh, opened);
        }

        empty_user_keyring(user, start.keys);
        const KeyQuota emptied = key_quota(user.uid);
        std::printf("[   INFO   ] after emptying the user keyring: %u/%u keys\n", emptied.keys,
                    emptied.max_keys);
        ASSERT_LT(emptied.keys, emptied.max_keys);

        pam_handle_t* pamh = start_fault_service(user.name);
        ASSERT_NE(pamh, nullptr);
        const int opened = pam_open_session(pamh, 0);
        ASSERT_EQ(opened, PAM_SUCCESS) << to_string(log.take());
        EXPECT_EQ(thread_ids(), before);
        const key_serial_t made = session_keyring();
        const auto key = describe(made);
        ASSERT_TRUE(key) << std::strerror(errno);
        EXPECT_EQ(key->name, "_ses");
        EXPECT_EQ(key->uid, user.uid);
        EXPECT_TRUE(find_linked(made, "_uid." + std::to_string(user.uid)));
        EXPECT_EQ(pam_close_session(pamh, 0), PAM_SUCCESS) << to_string(log.take());
        EXPECT_EQ(describe_error(made), EKEYREVOKED);
        EXPECT_TRUE(module_lines(log.take()).empty());
        pam_end(pamh, PAM_SUCCESS);
    });
}

}  // namespace
}  // namespace pam_keyinit::test
