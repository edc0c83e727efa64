// SPDX-License-Identifier: BSD-3-Clause
// A real libpam transaction on a service file generated at build time.
#pragma once

#include <security/pam_appl.h>

#include <string>

namespace pam_keyinit::test {

// Which module a generated service names: the one just built, or Debian's.
enum class Module { ours, stock };
const char* name(Module module);

// The service "<ours|stock>-<base>" in the test configuration folder.
std::string service(Module module, const std::string& base);

class PamTransaction {
public:
    PamTransaction(const std::string& service, const std::string& user);
    ~PamTransaction();
    PamTransaction(const PamTransaction&) = delete;
    PamTransaction& operator=(const PamTransaction&) = delete;

    int started() const { return start_status_; }
    int open_session() { return pam_open_session(handle_, 0); }
    int close_session() { return pam_close_session(handle_, 0); }
    int setcred(int flags) { return pam_setcred(handle_, flags); }
    // What an application (or an attacker driving one) may do between calls.
    int set_user(const std::string& user) { return pam_set_item(handle_, PAM_USER, user.c_str()); }

private:
    pam_handle_t* handle_ = nullptr;
    int start_status_;
};

}  // namespace pam_keyinit::test
