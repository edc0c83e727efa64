// SPDX-License-Identifier: BSD-3-Clause
#include "fault_stack.h"

#include <gtest/gtest.h>
#include <keyutils.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace pam_keyinit::test {
namespace {

std::string confdir;
TestUser fault;
TestUser quota;

class FaultEnvironment : public ::testing::Environment {
public:
    void SetUp() override {
        if (geteuid() != 0) {
            return;
        }
        fault = ensure_user("pkt-fault");
        quota = ensure_user("pkt-quota");
        char directory[] = "/tmp/pam-keyinit-fault.XXXXXX";
        ASSERT_NE(mkdtemp(directory), nullptr);
        confdir = directory;
        const std::string module = PAM_KEYINIT_MODULE_PATH;
        std::ofstream(confdir + "/fault")
            << "auth required " << module << " revoke persistent\n"
            << "session required " << module << " revoke persistent\n";
        std::ofstream(confdir + "/other") << "auth required pam_deny.so\n"
                                             "account required pam_deny.so\n"
                                             "password required pam_deny.so\n"
                                             "session required pam_deny.so\n";
    }
    void TearDown() override {
        if (confdir.empty()) {
            return;
        }
        std::remove((confdir + "/fault").c_str());
        std::remove((confdir + "/other").c_str());
        rmdir(confdir.c_str());
    }
};

[[maybe_unused]] ::testing::Environment* const fault_environment =
    ::testing::AddGlobalTestEnvironment(new FaultEnvironment);

int refuse_conversation(int, const pam_message**, pam_response** response, void*) {
    *response = nullptr;
    return PAM_CONV_ERR;
}

const pam_conv conversation = {refuse_conversation, nullptr};

}  // namespace

const std::string& fault_confdir() {
    return confdir;
}

const TestUser& fault_user() {
    return fault;
}

const TestUser& quota_user() {
    return quota;
}

pam_handle_t* start_fault_service(const std::string& user) {
    pam_handle_t* pamh = nullptr;
    const int status =
        pam_start_confdir("fault", user.c_str(), &conversation, confdir.c_str(), &pamh);
    EXPECT_EQ(status, PAM_SUCCESS) << pam_strerror(pamh, status);
    return pamh;
}

ThreadIds ids_from_proc() {
    std::ifstream status("/proc/thread-self/status");
    ThreadIds ids{};
    std::string line;
    while (std::getline(status, line)) {
        std::istringstream fields(line);
        std::string label;
        fields >> label;
        if (label == "Uid:") {
            fields >> ids.ruid >> ids.euid >> ids.suid >> ids.fsuid;
        } else if (label == "Gid:") {
            fields >> ids.rgid >> ids.egid >> ids.sgid >> ids.fsgid;
        }
    }
    return ids;
}

std::vector<LogLine> module_lines(const std::vector<LogLine>& lines) {
    std::vector<LogLine> found;
    for (const LogLine& line : lines) {
        if (line.text.rfind("pam_keyinit(", 0) == 0 && line.priority <= LOG_INFO) {
            found.push_back(line);
        }
    }
    return found;
}

std::optional<ProcKey> proc_key(key_serial_t id) {
    std::ifstream keys("/proc/keys");
    std::string line;
    while (std::getline(keys, line)) {
        // "1d6a9a52 I--Q---     1 perm 3f030000     0     0 keyring   _ses: 1"
        std::istringstream fields(line);
        std::string serial, flags, usage, timeout, permissions, type, name;
        uid_t uid = 0;
        gid_t gid = 0;
        fields >> serial >> flags >> usage >> timeout >> permissions >> uid >> gid >> type >> name;
        if (static_cast<key_serial_t>(std::stoul(serial, nullptr, 16)) != id) {
            continue;
        }
        if (!name.empty() && name.back() == ':') {
            name.pop_back();
        }
        return ProcKey{id, flags, uid, type, name};
    }
    return std::nullopt;
}

key_serial_t user_keyring_of(const TestUser& user) {
    const ThreadIds before = thread_ids();
    set_thread_real_ids(user.uid, user.gid);
    const key_serial_t keyring = keyctl_get_keyring_ID(KEY_SPEC_USER_KEYRING, 1);
    set_thread_ids(before);
    EXPECT_GT(keyring, 0);
    return keyring;
}

}  // namespace pam_keyinit::test
