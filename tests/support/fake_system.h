// SPDX-License-Identifier: BSD-3-Clause
// A System whose every call can be made to fail with any errno, with a
// simulated thread (real/effective/saved IDs), simulated keyrings and any
// number of PAM handles. Its state is its own: two fakes coexist.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pam_keyinit/session.h"
#include "pam_keyinit/system.h"
#include "steps.h"

namespace pam_keyinit::test {

struct FakeKey {
    KeySerial id;
    uid_t owner;
    std::string name;
    bool revoked = false;
    std::vector<KeySerial> links;
    // What describe_key returns instead of "keyring;uid;gid;perm;name".
    std::optional<std::string> description;
};

struct LoggedLine {
    int priority;
    std::string text;
};

class FakeSystem {
public:
    static constexpr int max_handles = 8;

    FakeSystem();
    ~FakeSystem();  // releases handle data as pam_end() would
    FakeSystem(const FakeSystem&) = delete;
    FakeSystem& operator=(const FakeSystem&) = delete;

    const System& system() const { return system_; }
    // Handle 0 unless told otherwise; each has data of its own.
    pam_handle_t* pamh(int handle = 0) {
        return reinterpret_cast<pam_handle_t*>(&handles_[handle]);
    }

    // --- what the world looks like
    std::string user = "alice";
    int get_user_status = PAM_SUCCESS;
    std::map<std::string, UserIds> passwd = {{"alice", {1000, 1000}}, {"root", {0, 0}}};
    ThreadIds ids{0, 0, 0, 0, 0, 0, 0, 0};
    KeySerial session = 0;  // 0: none yet (the kernel installs @us on lookup)
    bool session_revoked = false;
    bool session_expired = false;
    std::map<uid_t, KeySerial> user_session_of;
    std::map<uid_t, KeySerial> user_keyring_of;
    std::map<KeySerial, FakeKey> keys;

    // --- fault injection: the nth call (1-based) of that step fails with
    // errno (for libpam steps, with the PAM code given instead). Several
    // failures may be armed; the first that matches a call applies.
    void fail(Step step, int error, int nth = 1) { failures_.push_back({step, error, nth}); }
    void fail_always(Step step, int error) { failures_.push_back({step, error, 0}); }

    // --- what happened
    std::vector<LoggedLine> log;
    std::vector<Step> calls;
    // The thread's IDs at each keyring call.
    std::vector<ThreadIds> ids_at_keyctl;
    std::vector<KeySerial> revoked;          // revoked by a successful revoke_key
    std::vector<KeySerial> revoke_attempts;  // every key revoke_key was called on
    std::vector<KeySerial> joined;           // every keyring join_new_session_keyring made
    struct Fired {
        Step step;
        int error;
    };
    std::vector<Fired> fired;  // every armed failure that a call met

    // Helpers for tests.
    KeySerial add_keyring(uid_t owner, const std::string& name);
    KeySerial user_session_keyring(uid_t uid);
    KeySerial user_keyring(uid_t uid);
    std::vector<LoggedLine> lines_at(int priority) const;
    std::string log_text() const;
    size_t count(Step step) const;
    HandleState* state(int handle = 0);

private:
    struct Failure {
        Step step;
        int error;
        int nth;  // 0: every call
    };
    struct Datum {
        void* data;
        void (*cleanup)(pam_handle_t*, void*, int);
    };
    static const SystemCalls calls_table;

    int injected(Step step);
    int get_user(const char** name);
    int lookup_user(const char* name, UserIds* out);
    int get_data(const pam_handle_t* pamh, const char* name, const void** data);
    int set_data(pam_handle_t* pamh, const char* name, void* data,
                 void (*cleanup)(pam_handle_t*, void*, int));
    void* allocate(size_t size);
    int get_ids(ThreadIds* out);
    int set_uids(uid_t r, uid_t e, uid_t s);
    int set_gids(gid_t r, gid_t e, gid_t s);
    int set_fsuid(uid_t fsuid);
    int set_fsgid(gid_t fsgid);
    long keyring_id(KeySerial special);
    long describe(KeySerial key, char* buffer, size_t size);
    long join();
    long link(KeySerial key, KeySerial keyring);
    long revoke(KeySerial key);
    long link_persistent(KeySerial keyring);

    System system_;
    char handles_[max_handles] = {};
    std::vector<Failure> failures_;
    std::map<Step, int> counts_;
    std::map<std::pair<const void*, std::string>, Datum> data_;
    KeySerial next_id_ = 1000;
    std::string user_storage_;
};

}  // namespace pam_keyinit::test
