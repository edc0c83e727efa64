// A System whose every call can be made to fail with any errno, with a
// simulated thread (real/effective/saved IDs) and simulated keyrings.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pam_keyinit/session.h"
#include "pam_keyinit/system.h"

namespace pam_keyinit::test {

// Every seam call, by name, for fault injection and call logs.
enum class Call {
    get_user, lookup_user, get_data, set_data, allocate,
    get_thread_ids, set_thread_uids, set_thread_gids,
    keyring_id, describe_key, join, link, revoke, link_persistent,
};
const char* call_name(Call call);

struct FakeKey {
    KeySerial id;
    uid_t owner;
    std::string name;
    bool revoked = false;
    std::vector<KeySerial> links;
};

struct LoggedLine {
    int priority;
    std::string text;
};

class FakeSystem {
public:
    FakeSystem();   // becomes the current fake
    ~FakeSystem();  // releases handle data as pam_end() would

    const System& system() const { return table_; }
    pam_handle_t* pamh() { return reinterpret_cast<pam_handle_t*>(this); }

    // --- what the world looks like
    std::string user = "alice";
    int get_user_status = PAM_SUCCESS;
    std::map<std::string, UserIds> passwd = {{"alice", {1000, 1000}}, {"root", {0, 0}}};
    ThreadIds ids{0, 0, 0, 0, 0, 0};
    KeySerial session = 0;       // 0: none yet (the kernel installs @us on lookup)
    bool session_revoked = false;
    std::map<uid_t, KeySerial> user_session_of;
    std::map<uid_t, KeySerial> user_keyring_of;
    std::map<KeySerial, FakeKey> keys;

    // --- fault injection: the n-th call (1-based) of that kind fails with errno
    // (for libpam calls, with the PAM code given instead).
    void fail(Call call, int error, int nth = 1) { failures_[call] = {error, nth}; }
    void fail_always(Call call, int error) { failures_[call] = {error, 0}; }

    // --- what happened
    std::vector<LoggedLine> log;
    std::vector<Call> calls;
    // The thread's IDs at each keyring call.
    std::vector<ThreadIds> ids_at_keyctl;
    std::vector<KeySerial> revoked;

    // Helpers for tests.
    KeySerial add_keyring(uid_t owner, const std::string& name);
    KeySerial user_session_keyring(uid_t uid);
    KeySerial user_keyring(uid_t uid);
    std::vector<LoggedLine> lines_at(int priority) const;
    std::string log_text() const;
    size_t count(Call call) const;
    HandleState* state();

    // Implementation details for the System table.
    int injected(Call call);
    int get_user_impl(const char** name);
    int lookup_user_impl(const char* name, UserIds* out);
    int get_data_impl(const char* name, const void** data);
    int set_data_impl(const char* name, void* data, void (*cleanup)(pam_handle_t*, void*, int));
    void* allocate_impl(size_t size);
    int get_ids_impl(ThreadIds* out);
    int set_uids_impl(uid_t r, uid_t e, uid_t s);
    int set_gids_impl(gid_t r, gid_t e, gid_t s);
    long keyring_id_impl(KeySerial special);
    long describe_impl(KeySerial key, char* buffer, size_t size);
    long join_impl();
    long link_impl(KeySerial key, KeySerial keyring);
    long revoke_impl(KeySerial key);
    long link_persistent_impl(KeySerial keyring);

private:
    struct Failure {
        int error;
        int nth;  // 0: every call
    };
    struct Datum {
        void* data;
        void (*cleanup)(pam_handle_t*, void*, int);
    };
    System table_;
    std::map<Call, Failure> failures_;
    std::map<Call, int> counts_;
    std::map<std::string, Datum> data_;
    KeySerial next_id_ = 1000;
    std::string user_storage_;
};

}  // namespace pam_keyinit::test
