// SPDX-License-Identifier: BSD-3-Clause
// One process, 8 threads, 2,000 sessions in all (PAM_KEYINIT_STRESS_SESSIONS
// to change it) for four users through the built module with force and
// revoke. Each thread checks, from itself: its real/effective/saved IDs
// around every call, that the keyring it got is a "_ses" of the right user
// linking that user's keyring, and that closing revoked it. A watcher thread
// reads its own IDs all the while and must never see them change. The key
// quota of each user is sampled from /proc/key-users throughout.
//
// The quota: a revoked keyring is charged to its user until the kernel's
// garbage collector frees it, which it does asynchronously once nothing
// refers to it. Opening hundreds of sessions a second for one user outruns
// it (here, 500 sessions per user in a tenth of a second left about 165 of
// 200 keys charged). So a worker waits, before a session, while the user
// has three quarters of kernel.keys.maxkeys charged, and the test reports
// how often it waited and the peak it saw; the sysctl is left alone.
#include <gtest/gtest.h>
#include <keyutils.h>
#include <security/pam_appl.h>
#include <sys/stat.h>
#include <syslog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child.h"
#include "kernel.h"
#include "syslog_capture.h"

namespace pam_keyinit::test {
namespace {

constexpr int thread_count = 8;
constexpr int user_count = 4;

int total_sessions() {
    const char* wanted = std::getenv("PAM_KEYINIT_STRESS_SESSIONS");
    const int sessions = wanted != nullptr ? std::atoi(wanted) : 2000;
    return sessions > 0 ? sessions : 2000;
}

int refuse_conversation(int, const pam_message**, pam_response** response, void*) {
    *response = nullptr;
    return PAM_CONV_ERR;
}

const pam_conv conversation = {refuse_conversation, nullptr};

unsigned max_keys() {
    std::ifstream sysctl("/proc/sys/kernel/keys/maxkeys");
    unsigned value = 200;
    sysctl >> value;
    return value;
}

// What one worker found; checked on the main thread.
struct WorkerReport {
    int sessions = 0;
    int revoked = 0;
    long quota_waits = 0;
    std::vector<std::string> problems;

    void problem(const std::string& what) {
        if (problems.size() < 20) {
            problems.push_back(what);
        }
    }
};

class ServiceFolder {
public:
    ServiceFolder() {
        char directory[] = "/tmp/pam-keyinit-stress.XXXXXX";
        if (mkdtemp(directory) != nullptr) {
            path_ = directory;
            std::ofstream(path_ + "/stress")
                << "session required " << PAM_KEYINIT_MODULE_PATH << " force revoke\n";
            std::ofstream(path_ + "/other") << "session required pam_deny.so\n";
        }
    }
    ~ServiceFolder() {
        std::remove((path_ + "/stress").c_str());
        std::remove((path_ + "/other").c_str());
        rmdir(path_.c_str());
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

void run_sessions(int worker, int sessions, const std::vector<TestUser>& users,
                  const std::string& confdir, WorkerReport& report) {
    const ThreadIds own = thread_ids();
    const unsigned pause_at = max_keys() * 3 / 4;
    for (int i = 0; i < sessions; ++i) {
        const TestUser& user = users[static_cast<size_t>(worker + i) % users.size()];
        for (int waited = 0; key_quota(user.uid).keys >= pause_at && waited < 10000; ++waited) {
            ++report.quota_waits;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        const std::string where = "thread " + std::to_string(worker) + " session " +
                                  std::to_string(i) + " (" + user.name + "): ";
        pam_handle_t* pamh = nullptr;
        if (pam_start_confdir("stress", user.name.c_str(), &conversation, confdir.c_str(), &pamh) !=
            PAM_SUCCESS) {
            report.problem(where + "pam_start failed");
            return;
        }
        const int opened = pam_open_session(pamh, 0);
        if (opened != PAM_SUCCESS) {
            report.problem(where + "open_session: " + pam_strerror(pamh, opened));
        }
        if (thread_ids() != own) {
            report.problem(where + "IDs changed by open_session");
        }
        const key_serial_t made = session_keyring();
        const auto key = describe(made);
        if (!key || key->name != "_ses" || key->uid != user.uid) {
            report.problem(where + "the session keyring " + std::to_string(made) +
                           " is not a _ses of the user's");
        } else if (!find_linked(made, "_uid." + std::to_string(user.uid))) {
            report.problem(where + "the session keyring does not link the user keyring");
        }
        const int closed = pam_close_session(pamh, 0);
        if (closed != PAM_SUCCESS) {
            report.problem(where + "close_session: " + pam_strerror(pamh, closed));
        }
        if (thread_ids() != own) {
            report.problem(where + "IDs changed by close_session");
        }
        if (describe_error(made) == EKEYREVOKED) {
            ++report.revoked;
        } else {
            report.problem(where + "keyring " + std::to_string(made) + " not revoked at close");
        }
        pam_end(pamh, closed);
        ++report.sessions;
    }
}

TEST(Stress, EightThreadsTwoThousandSessions) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root: it opens sessions for real users";
    }
    std::vector<TestUser> users;
    for (int i = 0; i < user_count; ++i) {
        users.push_back(ensure_user("pkt-stress-" + std::to_string(i)));
    }
    run_in_child(
        [&] {
            std::string error;
            auto log = SyslogCapture::start(&error);
            ASSERT_TRUE(log) << error;
            ServiceFolder folder;
            ASSERT_FALSE(folder.path().empty());

            const int sessions = total_sessions();
            std::atomic<bool> done{false};
            std::atomic<long> looks{0};
            std::atomic<long> changes{0};
            std::vector<unsigned> peak(users.size(), 0);
            std::thread watcher([&] {
                const ThreadIds mine = thread_ids();
                while (!done) {
                    changes += thread_ids() == mine ? 0 : 1;
                    if (++looks % 256 == 0) {
                        for (size_t u = 0; u < users.size(); ++u) {
                            peak[u] = std::max(peak[u], key_quota(users[u].uid).keys);
                        }
                    }
                }
            });

            const auto started = std::chrono::steady_clock::now();
            std::vector<WorkerReport> reports(thread_count);
            std::vector<std::thread> workers;
            for (int w = 0; w < thread_count; ++w) {
                const int share = sessions / thread_count + (w < sessions % thread_count ? 1 : 0);
                workers.emplace_back(run_sessions, w, share, std::cref(users),
                                     std::cref(folder.path()),
                                     std::ref(reports[static_cast<size_t>(w)]));
            }
            for (std::thread& worker : workers) {
                worker.join();
            }
            done = true;
            watcher.join();
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

            int opened = 0;
            int revoked = 0;
            long waits = 0;
            for (size_t w = 0; w < reports.size(); ++w) {
                opened += reports[w].sessions;
                revoked += reports[w].revoked;
                waits += reports[w].quota_waits;
                for (const std::string& problem : reports[w].problems) {
                    ADD_FAILURE() << problem;
                }
            }
            std::printf(
                "[   INFO   ] %d sessions on %d threads for %d users in %.1f s; %d keyrings "
                "revoked; the watcher looked %ld times and saw %ld changes\n",
                opened, thread_count, user_count, seconds, revoked, looks.load(), changes.load());
            std::printf(
                "[   INFO   ] workers waited %ld ms in all for the key garbage collector "
                "(pausing at %u of %u keys charged)\n",
                waits, max_keys() * 3 / 4, max_keys());
            for (size_t u = 0; u < users.size(); ++u) {
                std::printf("[   INFO   ] %s: at most %u keys charged\n", users[u].name.c_str(),
                            peak[u]);
            }
            EXPECT_EQ(opened, sessions);
            EXPECT_EQ(revoked, sessions) << "every keyring made is revoked";
            EXPECT_EQ(changes, 0) << "a thread saw its credentials change";
            const auto lines = log->take();
            std::vector<LogLine> loud;
            for (const LogLine& line : lines) {
                if (line.priority <= LOG_NOTICE) {
                    loud.push_back(line);
                }
            }
            EXPECT_TRUE(loud.empty()) << to_string(loud);
        },
        1200);
}

}  // namespace
}  // namespace pam_keyinit::test
