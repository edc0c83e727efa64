// SPDX-License-Identifier: BSD-3-Clause
// The per-user key quota (kernel.keys.maxkeys, 200 by default): a user whose
// quota is full cannot be given a new session keyring. The session fails
// with one clear line naming EDQUOT, the caller's credentials are intact and
// the thread keeps its keyring; once the keys are gone, sessions work again.
#include <gtest/gtest.h>
#include <keyutils.h>
#include <syslog.h>

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
    set_thread_ids({user.uid, user.uid, 0, user.gid, user.gid, 0});
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

TEST(KeyQuota, FullQuotaFailsTheSessionClearlyAndRecovers) {
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
        {
            pam_handle_t* pamh = start_fault_service(user.name);
            ASSERT_NE(pamh, nullptr);
            const int opened = pam_open_session(pamh, 0);
            const auto lines = log.take();
            EXPECT_EQ(opened, PAM_SESSION_ERR) << to_string(lines);
            const auto loud = module_lines(lines);
            ASSERT_EQ(loud.size(), 1u) << to_string(lines);
            EXPECT_EQ(loud[0].priority, LOG_ERR);
            EXPECT_TRUE(
                loud[0].contains("cannot join a new session keyring for user \"pkt-quota\": "
                                 "Disk quota exceeded"))
                << loud[0].text;
            std::printf("[   INFO   ] logged: <%d> %s\n", loud[0].priority, loud[0].text.c_str());
            EXPECT_EQ(thread_ids(), before);
            EXPECT_EQ(contents(KEY_SPEC_SESSION_KEYRING), std::vector<key_serial_t>{marker})
                << "the thread keeps the keyring it had";
            // Nothing was made, so there is nothing to revoke or say. (libpam
            // replays open_session's result on the close of that chain, so
            // its return value says nothing about the module.)
            pam_close_session(pamh, 0);
            EXPECT_TRUE(module_lines(log.take()).empty());
            EXPECT_EQ(contents(KEY_SPEC_SESSION_KEYRING), std::vector<key_serial_t>{marker});
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
