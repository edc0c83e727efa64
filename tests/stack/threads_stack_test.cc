// SPDX-License-Identifier: BSD-3-Clause
// Session keyrings and credentials belong to threads: two sessions on two
// threads of one process, and a thread that watches its own credentials.
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <thread>
#include <tuple>

#include "stack_support.h"

namespace pam_keyinit::test {
namespace {

// A thread that runs what it is given, one call at a time, and waits for it.
class Worker {
public:
    Worker() : thread_([this] { loop(); }) {}
    ~Worker() {
        run([this] { stopping_ = true; });
        thread_.join();
    }
    void run(std::function<void()> task) {
        std::unique_lock lock(mutex_);
        task_ = std::move(task);
        changed_.notify_all();
        changed_.wait(lock, [this] { return !task_; });
    }

private:
    void loop() {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            changed_.wait(lock, [this] { return static_cast<bool>(task_); });
            task_();
            task_ = nullptr;
            changed_.notify_all();
        }
    }
    std::mutex mutex_;
    std::condition_variable changed_;
    std::function<void()> task_;
    bool stopping_ = false;
    std::thread thread_;
};

// What Linux-PAM's module does with threads depends on its release
// (PAM_KEYINIT_STOCK_LINUX_PAM, read by tests/meson.build). Up to 1.5.2
// (Debian 12): one keyring and one counter for the whole process, IDs
// switched with glibc's setreuid()/setregid(), which change every thread.
// From 1.5.3 on (Debian 13 has 1.7.0): the keyring is per thread, the
// counter still shared, and IDs are switched per thread by raw system calls.
enum class StockThreads { per_process, per_thread, unknown };

StockThreads stock_threads() {
    unsigned major = 0, minor = 0, patch = 0;
    if (std::sscanf(PAM_KEYINIT_STOCK_LINUX_PAM, "%u.%u.%u", &major, &minor, &patch) != 3) {
        return StockThreads::unknown;
    }
    return std::tie(major, minor, patch) >= std::make_tuple(1u, 5u, 3u) ? StockThreads::per_thread
                                                                        : StockThreads::per_process;
}

// Whether the stock module's results are asserted: only where its release
// is known; otherwise they are printed.
bool stock_is_known() {
    if (stock_threads() != StockThreads::unknown) {
        return true;
    }
    std::printf(
        "[   INFO   ] stock: the Linux-PAM release is unknown (\"%s\"): its results "
        "are printed, not asserted\n",
        PAM_KEYINIT_STOCK_LINUX_PAM);
    return false;
}

// Two handles on two threads are two sessions: closing one revokes its own
// keyring and no other. Keyrings are read from the thread that possesses
// them.
TEST(Threads, TwoHandlesOnTwoThreadsAreTwoSessions) {
    PAM_KEYINIT_REQUIRE_ROOT();
    for (Module module : {Module::ours, Module::stock}) {
        run_in_child([module] {
            auto log = catch_syslog();
            const std::string service_name = service(module, "force-revoke");
            key_serial_t before_b = 0, first = 0, second = 0;
            std::unique_ptr<PamTransaction> pam_a, pam_b;
            Worker a, b;
            a.run([&] {
                start_in_root_keyring();
                pam_a = std::make_unique<PamTransaction>(service_name, alice().name);
                ASSERT_EQ(pam_a->open_session(), PAM_SUCCESS);
                first = expect_own_session(alice());
            });
            b.run([&] {
                before_b = start_in_root_keyring();
                pam_b = std::make_unique<PamTransaction>(service_name, bob().name);
                ASSERT_EQ(pam_b->open_session(), PAM_SUCCESS);
                if (module == Module::ours || stock_threads() == StockThreads::per_thread) {
                    second = expect_own_session(bob());
                } else {
                    // Linux-PAM 1.5.2 does nothing for a second session in
                    // the process: bob stays in root's keyring.
                    second = session_keyring();
                    if (stock_is_known()) {
                        EXPECT_EQ(second, before_b);
                    }
                }
            });
            a.run([&] {
                ASSERT_EQ(pam_a->close_session(), PAM_SUCCESS);
                if (module == Module::ours) {
                    EXPECT_EQ(describe_error(first), EKEYREVOKED)
                        << "closing A revokes A's keyring";
                } else if (stock_is_known()) {
                    EXPECT_EQ(describe_error(first), 0)
                        << "Linux-PAM: one close of two revokes nothing (one counter)";
                }
            });
            b.run([&] {
                EXPECT_EQ(describe_error(second), 0) << "closing A leaves B's keyring alone";
                ASSERT_EQ(pam_b->close_session(), PAM_SUCCESS) << to_string(log.take());
                if (module == Module::ours || stock_threads() == StockThreads::per_thread) {
                    EXPECT_EQ(describe_error(second), EKEYREVOKED)
                        << "the last close revokes the keyring of its own thread";
                } else if (stock_is_known()) {
                    EXPECT_EQ(describe_error(second), 0)
                        << "Linux-PAM 1.5.2 never revokes root's keyring";
                }
            });
            if (module == Module::stock && stock_is_known()) {
                // 1.5.2: its last close tried A's keyring from thread B,
                // which does not possess it: the revoke fails, silently.
                // 1.5.3 on: A's close was not the last, and B's revoked B's.
                a.run([&] {
                    EXPECT_EQ(describe_error(first), 0) << "A's keyring outlives its session";
                });
            }
            a.run([&] { pam_a.reset(); });
            b.run([&] { pam_b.reset(); });
        });
    }
}

// A thread of the host program must never see its credentials change while
// another thread opens and closes sessions.
TEST(Threads, WatcherNeverSeesItsCredentialsChange) {
    PAM_KEYINIT_REQUIRE_ROOT();
    constexpr int sessions = 100;
    for (Module module : {Module::ours, Module::stock}) {
        run_in_child([module] {
            auto log = catch_syslog();
            std::atomic<bool> done{false};
            std::atomic<long> changes{0};
            std::atomic<long> looks{0};
            ThreadIds watcher_before{}, watcher_after{};
            std::atomic<bool> ready{false};
            std::thread watcher([&] {
                watcher_before = thread_ids();
                ready = true;
                while (!done) {
                    changes += thread_ids() == watcher_before ? 0 : 1;
                    ++looks;
                }
                watcher_after = thread_ids();
            });
            while (!ready) {
                std::this_thread::yield();
            }
            const ThreadIds main_before = thread_ids();
            for (int i = 0; i < sessions; ++i) {
                PamTransaction pam(service(module, "force-revoke"), alice().name);
                ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
                ASSERT_EQ(pam.close_session(), PAM_SUCCESS) << to_string(log.take());
                log.take();  // keep syslog() from blocking on a full socket
            }
            done = true;
            watcher.join();
            std::printf(
                "[   INFO   ] %s: the watcher looked %ld times and saw %ld changes%s\n",
                name(module), looks.load(), changes.load(),
                module == Module::stock
                    ? (std::string(" (Linux-PAM ") + PAM_KEYINIT_STOCK_LINUX_PAM + ")").c_str()
                    : "");
            if (module == Module::ours) {
                EXPECT_EQ(changes, 0);
                EXPECT_EQ(watcher_after, watcher_before);
                EXPECT_EQ(thread_ids(), main_before);
            } else if (stock_threads() == StockThreads::per_thread) {
                // Linux-PAM 1.5.3 on switches IDs per thread.
                EXPECT_EQ(changes, 0);
                EXPECT_EQ(watcher_after, watcher_before);
            } else if (stock_is_known()) {
                // Linux-PAM 1.5.2: glibc's setreuid()/setregid() change
                // every thread; the saved GID left behind by the revoke
                // shows it for certain.
                EXPECT_NE(watcher_after, watcher_before) << watcher_after;
                EXPECT_EQ(watcher_after.sgid, alice().gid);
            }
        });
    }
}

}  // namespace
}  // namespace pam_keyinit::test
