// SPDX-License-Identifier: BSD-3-Clause
#include "child.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace pam_keyinit::test {
namespace {

constexpr int skipped_exit = 77;
int skip_pipe = -1;

std::string read_all(int fd) {
    std::string text;
    char buffer[512];
    ssize_t got;
    while ((got = read(fd, buffer, sizeof buffer)) > 0) {
        text.append(buffer, static_cast<size_t>(got));
    }
    return text;
}

}  // namespace

void skip_child(const std::string& reason) {
    if (skip_pipe >= 0) {
        (void)!write(skip_pipe, reason.data(), reason.size());
    }
    std::fflush(nullptr);
    _exit(skipped_exit);
}

void run_in_child(const std::function<void()>& body, unsigned timeout_seconds) {
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0) << std::strerror(errno);
    std::fflush(nullptr);
    const pid_t pid = fork();
    ASSERT_NE(pid, -1) << std::strerror(errno);
    if (pid == 0) {
        close(pipe_fds[0]);
        skip_pipe = pipe_fds[1];
        alarm(timeout_seconds);
        body();
        std::fflush(nullptr);
        _exit(::testing::Test::HasFailure() ? 1 : 0);
    }
    close(pipe_fds[1]);
    const std::string skip_reason = read_all(pipe_fds[0]);
    close(pipe_fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == skipped_exit) {
        GTEST_SKIP() << skip_reason;
    }
    if (WIFSIGNALED(status)) {
        FAIL() << "the child died of signal " << WTERMSIG(status) << " ("
               << strsignal(WTERMSIG(status)) << ")";
    }
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "the child reported failures (printed above)";
}

}  // namespace pam_keyinit::test
