// SPDX-License-Identifier: BSD-3-Clause
// The expectation table for fault injection (doc/design.md, "Failures"), shared by the cases
// against the fake kernel (tests/unit/fault_table_test.cc) and those against
// the built module on the real kernel (tests/fault/real_module_fault_test.cc):
// for each step of opening and closing a session and each errno (or PAM
// code) that step can really return, the PAM result, the one line logged at
// or above LOG_INFO and the session keyring afterwards. How a step is made
// to fail, and how the result is read back, stays with each program.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "pam_keyinit/system.h"
#include "steps.h"

namespace pam_keyinit::test::fault_table {

// The caller's IDs. Odd saved IDs, so that a restore that only put back the
// real IDs shows.
constexpr ThreadIds caller_ids{0, 0, 5, 0, 0, 7, 0, 0};

enum class Flow { open, close };

// The flows go through the steps of steps.h in their order: the caller
// starts inside a root-owned session keyring (a login from a systemd
// service), so opening reads the session keyring, the user-session keyring
// and the owner, then joins and links. The user is looked up either by the
// fake's lookup (lookup_user, then allocate) or by libpam's
// getpwnam_r() (getpwnam); a table has one or the other.

// The texts a table expects in the one line of a step that names the user
// or the caller's IDs (or as much of them as that table checks).
struct LineTexts {
    std::string unknown_user;    // lookup: no such user
    std::string lookup_failed;   // lookup: any other errno
    std::string switch_to_user;  // open: read_ids, switch_gids, switch_uids
    std::string join;
    std::string link;
    std::string link_persistent;
    std::string restore_uids;
    std::string restore_gids;
    std::string switch_to_revoke;  // close: read_ids, switch_gids, switch_uids
};

// One of the two tables: which steps its flows go through and what the
// lines say.
struct Table {
    Step lookup;                         // Step::lookup_user or Step::getpwnam
    bool allocates;                      // Step::allocate follows the lookup
    bool persistent_may_be_unsupported;  // EOPNOTSUPP is among link_persistent's failures
    LineTexts texts;
};

// Steps whose failure value is a PAM code rather than an errno.
bool returns_pam_code(Step step);

// What each call can really return when it fails: keyctl(2), setresuid(2),
// getresuid(2), getpwnam_r(3), calloc(3), pam_get_user(3), pam_get_data(3),
// pam_set_data(3). For getpwnam, 0 is no such user (getpwnam_r returns 0
// and no entry).
std::vector<int> failures_of(const Table& table, Step step);

// The keyring's state after the call.
enum class Keyring {
    unchanged,                  // the thread keeps the keyring it had; nothing made
    set_up,                     // a new "_ses" of the user's, linking the user keyring
                                // and the persistent keyring
    set_up_without_persistent,  // set up, linking the user keyring only
    joined_unlinked,            // the new keyring stays, without the link
    revoked,                    // close: what the handle made is revoked
    not_revoked,                // close: the handle's keyring stays as it was
};

struct Expected {
    int result;                   // a PAM code; phase_error stands for the phase's
    std::optional<int> priority;  // of the one line at or above LOG_INFO, if any
    std::string step_text;        // what that line says about the step
    bool names_error;             // the line carries the error's text
    Keyring keyring;
    bool ids_restored = true;  // false: a restore failed, checked separately
};

// PAM_SESSION_ERR for the session calls, PAM_CRED_ERR for setcred.
constexpr int phase_error = -1;

// The errors that make kernel keyrings count as unavailable.
bool is_unavailable(int error);

// What doc/design.md ("Failures") gives for step failing with error,
// opening or closing.
Expected expected(const Table& table, Flow flow, Step step, int error);

struct FaultCase {
    const Table* table;
    Flow flow;
    bool via_setcred;  // setcred(PAM_ESTABLISH_CRED / PAM_DELETE_CRED) instead of the session call
    Step step;
    int error;
};

// Every step of both flows of the table with each of its failures, through
// the session calls and then through setcred.
std::vector<FaultCase> all_cases(const Table& table);

// "open_<step>_<error>", with establish, close or delete for the phase.
std::string case_name(const FaultCase& c);
std::ostream& operator<<(std::ostream& out, const FaultCase& c);

// The error's text as the line carries it: pam_strerror() or strerror.
std::string error_text(Step step, int error);

// A line the module logged at LOG_INFO or above.
struct LoudLine {
    int priority;
    std::string text;
};

// The one rule for what a case logs, for both tables: no line at LOG_INFO
// or above when none is expected, else exactly one, of the expected
// priority, naming the step (and the error, when it should), on one line.
// all_lines is printed when the check fails.
void expect_loud_lines(const std::vector<LoudLine>& loud, const Expected& want, Step step,
                       int error, const std::string& all_lines);

}  // namespace pam_keyinit::test::fault_table
