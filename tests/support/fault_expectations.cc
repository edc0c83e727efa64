// SPDX-License-Identifier: BSD-3-Clause
#include "fault_expectations.h"

#include <gtest/gtest.h>
#include <security/pam_appl.h>
#include <syslog.h>

#include <cerrno>
#include <cstring>

namespace pam_keyinit::test::fault_table {
namespace {

// A call that fails with ENOMEM is PAM_BUF_ERR at LOG_CRIT, whatever step
// it was; the line still names the step (doc/design.md, "Failures").
Expected out_of_memory_rule(Step step, int error, Expected expected) {
    if (!returns_pam_code(step) && error == ENOMEM && expected.result == phase_error) {
        expected.result = PAM_BUF_ERR;
        expected.priority = LOG_CRIT;
    }
    return expected;
}

Expected expected_open(const Table& table, Step step, int error) {
    const LineTexts& texts = table.texts;
    switch (step) {
        case Step::get_data:
            return {phase_error, LOG_ERR, "cannot read this module's state", true,
                    Keyring::unchanged};
        case Step::get_user:
            // The code of pam_get_user, logged as Linux-PAM does (libpam
            // says why; the module only in debug).
            return {error, std::nullopt, "", false, Keyring::unchanged};
        case Step::lookup_user:
        case Step::getpwnam:
            // getpwnam_r(3) says "no such user" with 0 and no entry (or,
            // for some NSS modules, ENOENT); anything else is the user
            // database failing, and keeps its errno.
            if (error == 0 || error == ENOENT) {
                return {PAM_USER_UNKNOWN, LOG_NOTICE, texts.unknown_user, false,
                        Keyring::unchanged};
            }
            return {phase_error, LOG_ERR, texts.lookup_failed, true, Keyring::unchanged};
        case Step::allocate:
            return {PAM_BUF_ERR, LOG_CRIT, "out of memory for the session state", false,
                    Keyring::unchanged};
        case Step::set_data:
            if (error == PAM_BUF_ERR) {
                return {PAM_BUF_ERR, LOG_CRIT, "out of memory keeping the session state", false,
                        Keyring::unchanged};
            }
            return {phase_error, LOG_ERR, "cannot keep the session state", true,
                    Keyring::unchanged};
        case Step::read_ids:
        case Step::switch_gids:
        case Step::switch_uids:
            return {phase_error, LOG_ERR, texts.switch_to_user, true, Keyring::unchanged};
        case Step::session_lookup:
            if (is_unavailable(error)) {
                return {PAM_SUCCESS, LOG_INFO, "kernel keyrings are unavailable", true,
                        Keyring::unchanged};
            }
            // A dead session keyring is replaced, quietly; so is one that
            // cannot be looked up at all (rule 2): it cannot be shown to be
            // the user's.
            return {PAM_SUCCESS, std::nullopt, "", false, Keyring::set_up};
        case Step::user_session_lookup:
            // Without it rule 3 cannot be applied: replaced (rule 2).
            return {PAM_SUCCESS, std::nullopt, "", false, Keyring::set_up};
        case Step::describe:
            // An owner that cannot be read is taken as foreign: replaced.
            return {PAM_SUCCESS, std::nullopt, "", false, Keyring::set_up};
        case Step::join:
            // Every join fails (a seccomp filter cannot tell the first from
            // the fallback's, so both tables fail them all): neither a
            // keyring of the user's nor one owned by root can be had, the
            // only way the thread keeps a keyring that is not the user's.
            return {phase_error, LOG_CRIT, texts.join, true, Keyring::unchanged};
        case Step::link: return {phase_error, LOG_ERR, texts.link, true, Keyring::joined_unlinked};
        case Step::link_persistent:
            return {PAM_SUCCESS, LOG_WARNING, texts.link_persistent, true,
                    Keyring::set_up_without_persistent};
        case Step::restore_uids:
            return {phase_error, LOG_CRIT, texts.restore_uids, true, Keyring::set_up, false};
        case Step::restore_gids:
            return {phase_error, LOG_CRIT, texts.restore_gids, true, Keyring::set_up, false};
        case Step::restore_fsids:  // not in the tables: their caller's are its effective IDs
        case Step::revoke: break;
    }
    ADD_FAILURE() << "no open expectation for " << step_name(step);
    return {};
}

Expected expected_close(const Table& table, Step step, int error) {
    const LineTexts& texts = table.texts;
    switch (step) {
        case Step::get_data:
            return {phase_error, LOG_ERR, "cannot read this module's state", true,
                    Keyring::not_revoked};
        case Step::read_ids:
        case Step::switch_gids:
        case Step::switch_uids:
            return {phase_error, LOG_ERR, texts.switch_to_revoke, true, Keyring::not_revoked};
        case Step::revoke:
            if (error == EKEYREVOKED || error == ENOKEY) {
                // Already revoked or gone counts as revoked (doc/design.md,
                // "Closing").
                return {PAM_SUCCESS, std::nullopt, "", false, Keyring::not_revoked};
            }
            return {phase_error, LOG_ERR, "cannot revoke session keyring", true,
                    Keyring::not_revoked};
        case Step::restore_uids:
            return {phase_error, LOG_CRIT, texts.restore_uids, true, Keyring::revoked, false};
        case Step::restore_gids:
            return {phase_error, LOG_CRIT, texts.restore_gids, true, Keyring::revoked, false};
        default: break;
    }
    ADD_FAILURE() << "no close expectation for " << step_name(step);
    return {};
}

std::string error_name(Step step, int error) {
    if (returns_pam_code(step)) {
        switch (error) {
            case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
            case PAM_BUF_ERR: return "PAM_BUF_ERR";
            case PAM_CONV_ERR: return "PAM_CONV_ERR";
            case PAM_ABORT: return "PAM_ABORT";
            case PAM_INCOMPLETE: return "PAM_INCOMPLETE";
        }
        return "PAM_" + std::to_string(error);
    }
    if (error == 0) {
        return "not_found";
    }
    const char* name = strerrorname_np(error);
    return name != nullptr ? name : std::to_string(error);
}

}  // namespace

bool returns_pam_code(Step step) {
    return step == Step::get_data || step == Step::get_user || step == Step::set_data;
}

std::vector<int> failures_of(const Table& table, Step step) {
    const std::vector<int> keyctl_errors{ENOMEM, EDQUOT, EACCES,      EPERM,       EAGAIN, EINTR,
                                         EINVAL, EFAULT, EKEYREVOKED, EKEYEXPIRED, ENOKEY, ENOSYS};
    const std::vector<int> setres_errors{EPERM, EAGAIN, EINVAL};
    switch (step) {
        case Step::get_data: return {PAM_SYSTEM_ERR};
        case Step::get_user:
            return {PAM_SYSTEM_ERR, PAM_BUF_ERR, PAM_CONV_ERR, PAM_ABORT, PAM_INCOMPLETE};
        case Step::lookup_user: return {ENOENT, ENOMEM, EIO, EMFILE, ENFILE, EAGAIN, EINTR, ERANGE};
        case Step::getpwnam: return {0, ENOENT, ENOMEM, EIO, EMFILE, ENFILE, EAGAIN, EINTR};
        case Step::allocate: return {ENOMEM};
        case Step::set_data: return {PAM_BUF_ERR, PAM_SYSTEM_ERR};
        case Step::read_ids: return {EFAULT};
        case Step::switch_gids:
        case Step::switch_uids:
        case Step::restore_uids:
        case Step::restore_gids:
        case Step::restore_fsids: return setres_errors;
        case Step::link_persistent:
            if (table.persistent_may_be_unsupported) {
                auto errors = keyctl_errors;
                errors.push_back(EOPNOTSUPP);
                return errors;
            }
            return keyctl_errors;
        default: return keyctl_errors;
    }
}

bool is_unavailable(int error) {
    return error == ENOSYS || error == EPERM;
}

Expected expected(const Table& table, Flow flow, Step step, int error) {
    return out_of_memory_rule(step, error,
                              flow == Flow::open ? expected_open(table, step, error)
                                                 : expected_close(table, step, error));
}

std::vector<FaultCase> all_cases(const Table& table) {
    std::vector<Step> open_steps{Step::get_data, Step::get_user, table.lookup};
    if (table.allocates) {
        open_steps.push_back(Step::allocate);
    }
    open_steps.insert(open_steps.end(),
                      {Step::set_data, Step::read_ids, Step::switch_gids, Step::switch_uids,
                       Step::session_lookup, Step::user_session_lookup, Step::describe, Step::join,
                       Step::link, Step::link_persistent, Step::restore_uids, Step::restore_gids});
    const std::vector<Step> close_steps{Step::get_data,    Step::read_ids, Step::switch_gids,
                                        Step::switch_uids, Step::revoke,   Step::restore_uids,
                                        Step::restore_gids};
    std::vector<FaultCase> cases;
    for (bool via_setcred : {false, true}) {
        for (Step step : open_steps) {
            for (int error : failures_of(table, step)) {
                cases.push_back({&table, Flow::open, via_setcred, step, error});
            }
        }
        for (Step step : close_steps) {
            for (int error : failures_of(table, step)) {
                cases.push_back({&table, Flow::close, via_setcred, step, error});
            }
        }
    }
    return cases;
}

std::string case_name(const FaultCase& c) {
    const std::string phase = c.flow == Flow::open ? (c.via_setcred ? "establish" : "open")
                                                   : (c.via_setcred ? "delete" : "close");
    return phase + "_" + step_name(c.step) + "_" + error_name(c.step, c.error);
}

std::ostream& operator<<(std::ostream& out, const FaultCase& c) {
    return out << case_name(c);
}

std::string error_text(Step step, int error) {
    return returns_pam_code(step) ? pam_strerror(nullptr, error) : strerrordesc_np(error);
}

void expect_loud_lines(const std::vector<LoudLine>& loud, const Expected& want, Step step,
                       int error, const std::string& all_lines) {
    if (!want.priority) {
        EXPECT_TRUE(loud.empty()) << all_lines;
        return;
    }
    ASSERT_EQ(loud.size(), 1u) << all_lines;
    const LoudLine& line = loud[0];
    EXPECT_EQ(line.priority, *want.priority) << line.text;
    EXPECT_NE(line.text.find(want.step_text), std::string::npos)
        << "want \"" << want.step_text << "\" in: " << line.text;
    if (want.names_error) {
        EXPECT_NE(line.text.find(error_text(step, error)), std::string::npos)
            << "want \"" << error_text(step, error) << "\" in: " << line.text;
    }
    EXPECT_EQ(line.text.find('\n'), std::string::npos) << line.text;
}

}  // namespace pam_keyinit::test::fault_table
