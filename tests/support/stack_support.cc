// SPDX-License-Identifier: BSD-3-Clause
#include <sys/syscall.h>

#include <cstring>

#include "pam_keyinit/thread_ids.h"
#include "stack_support.h"

namespace pam_keyinit::test {

SyslogCapture catch_syslog() {
    std::string error;
    auto capture = SyslogCapture::start(&error);
    if (!capture) {
        ADD_FAILURE() << "cannot catch syslog: " << error;
        std::fflush(nullptr);
        _exit(1);
    }
    return std::move(*capture);
}

void start_in_user_session_keyring(const TestUser& user) {
    const ThreadIds before = thread_ids();
    set_thread_real_ids(user.uid, user.gid);
    key_serial_t session = keyctl_get_keyring_ID(KEY_SPEC_SESSION_KEYRING, 0);
    const key_serial_t user_session = keyctl_get_keyring_ID(KEY_SPEC_USER_SESSION_KEYRING, 1);
    const key_serial_t inherited = session;
    if (session != user_session) {
        // A process that inherited a session keyring (systemd-nspawn gives
        // its payload one) cannot drop it, but it can join the user's
        // user-session keyring by name: for the modules, which compare the
        // two as the user, that is the state of a process without one.
        // Joining needs search permission, so the effective IDs are the
        // user's too; the saved ones stay root's to come back.
        const std::string name = "_uid_ses." + std::to_string(user.uid);
        if (syscall(pam_keyinit::thread_ids::setresgid_call, user.gid, user.gid, -1) == 0 &&
            syscall(pam_keyinit::thread_ids::setresuid_call, user.uid, user.uid, -1) == 0 &&
            keyctl_join_session_keyring(name.c_str()) > 0) {
            session = keyctl_get_keyring_ID(KEY_SPEC_SESSION_KEYRING, 0);
        }
    }
    set_thread_ids(before);
    if (session != user_session) {
        skip_child("the test process inherited a session keyring (" + std::to_string(inherited) +
                   ") and cannot join the user-session keyring of " + user.name + " (" +
                   std::to_string(user_session) + ") by name, so that state cannot be set up");
    }
}

key_serial_t start_in_root_keyring() {
    const key_serial_t keyring = keyctl_join_session_keyring(nullptr);
    EXPECT_GT(keyring, 0) << std::strerror(errno);
    return keyring;
}

key_serial_t start_in_own_keyring(const TestUser& user) {
    const ThreadIds before = thread_ids();
    set_thread_real_ids(user.uid, user.gid);
    const key_serial_t keyring = keyctl_join_session_keyring(nullptr);
    const int error = errno;
    set_thread_ids(before);
    EXPECT_GT(keyring, 0) << std::strerror(error);
    EXPECT_EQ(describe(keyring).value_or(Key{}).uid, user.uid);
    return keyring;
}

key_serial_t expect_own_session(const TestUser& user) {
    const key_serial_t session = session_keyring();
    const auto key = describe(session);
    EXPECT_TRUE(key) << "session keyring " << session << ": " << std::strerror(errno);
    if (!key) {
        return session;
    }
    EXPECT_EQ(key->name, "_ses");
    EXPECT_EQ(key->uid, user.uid) << "the session keyring must belong to " << user.name;
    const auto user_keyring = find_linked(session, "_uid." + std::to_string(user.uid));
    EXPECT_TRUE(user_keyring) << "the session keyring must link the user keyring of " << user.name;
    if (user_keyring) {
        EXPECT_EQ(user_keyring->uid, user.uid);
    }
    return session;
}

}  // namespace pam_keyinit::test
