// SPDX-License-Identifier: BSD-3-Clause
// Session keyrings and credentials belong to threads: two sessions on two
// threads of one process, and a thread that watches its own credentials.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

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

// Two handles on two threads are two sessions: closing one revokes its own
// keyring and no other. Linux-PAM keeps one keyring and one counter for the
// whole process. Keyrings are read from the thread that possesses them.
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
                if (module == Module::ours) {
                    second = expect_own_session(bob());
                } else {
                    // Linux-PAM does nothing for a second session in the
                    // process: bob stays in root's keyring.
                    second = session_keyring();
                    EXPECT_EQ(second, before_b);
                }
            });
            a.run([&] {
                ASSERT_EQ(pam_a->close_session(), PAM_SUCCESS);
                if (module == Module::ours) {
                    EXPECT_EQ(describe_error(first), EKEYREVOKED)
                        << "closing A revokes A's keyring";
                } else {
                    EXPECT_EQ(describe_error(first), 0)
                        << "Linux-PAM: one close of two revokes nothing";
                }
            });
            b.run([&] {
                EXPECT_EQ(describe_error(second), 0) << "closing A leaves B's keyring alone";
                ASSERT_EQ(pam_b->close_session(), PAM_SUCCESS) << to_string(log.take());
                if (module == Module::ours) {
                    EXPECT_EQ(describe_error(second), EKEYREVOKED);
                } else {
                    EXPECT_EQ(describe_error(second), 0)
                        << "Linux-PAM never revokes root's keyring";
                }
            });
            if (module == Module::stock) {
                // Its last close tried A's keyring from thread B, which does
                // not possess it: the revoke fails, silently.
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
            std::printf("[   INFO   ] %s: the watcher looked %ld times and saw %ld changes\n",
                        name(module), looks.load(), changes.load());
            if (module == Module::ours) {
                EXPECT_EQ(changes, 0);
                EXPECT_EQ(watcher_after, watcher_before);
                EXPECT_EQ(thread_ids(), main_before);
            } else {
                // glibc's setreuid()/setregid() change every thread; the
                // saved GID left behind by the revoke shows it for certain.
                EXPECT_NE(watcher_after, watcher_before) << watcher_after;
                EXPECT_EQ(watcher_after.sgid, alice().gid);
            }
        });
    }
}

}  // namespace
}  // namespace pam_keyinit::test
