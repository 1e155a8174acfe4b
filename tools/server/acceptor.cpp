#include "tools/server/acceptor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/server_posix.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace leanos::cli {

Result<std::unique_ptr<Acceptor>> Acceptor::listen(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos)
    return Status::invalid("listen address '" + address + "' has no port; give ADDRESS:PORT, e.g. 127.0.0.1:7700");
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return Status::invalid("cannot listen on " + address + ": " + gai_strerror(rc) + "; give ADDRESS:PORT, e.g. 127.0.0.1:7700");
  int fd = -1;
  int err = 0;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // restart after a crash; never REUSEPORT
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
      err = errno;
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0)
    return Status::unavailable("cannot listen on " + address + ": " + std::strerror(err) +
                               (err == EADDRINUSE ? " (the port is in use: is another `leanos serve` running? pick another "
                                                    "with --listen or LEANOS_PORT)"
                                                  : ""));
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  const int actual = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                                 : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return std::unique_ptr<Acceptor>(new Acceptor(fd, actual));
}

Acceptor::Acceptor(int fd, int port) : fd_(fd), port_(port) {
  if (::pipe2(wake_, O_CLOEXEC) != 0) wake_[0] = wake_[1] = -1;
  spare_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

Acceptor::~Acceptor() {
  if (wake_[1] >= 0) {
    const char stop = 's';
    [[maybe_unused]] auto n = ::write(wake_[1], &stop, 1);
  }
  if (thread_.joinable()) thread_.join();
  for (int f : {fd_, wake_[0], wake_[1], spare_})
    if (f >= 0) ::close(f);
}

void Acceptor::start(grpc::Server& server) {
  thread_ = std::thread([this, &server] { loop(server); });
}

void Acceptor::loop(grpc::Server& server) {
  for (;;) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("serve: poll on the listener failed: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (conn >= 0) {
      const int one = 1;
      ::setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      grpc::AddInsecureChannelFromFd(&server, conn);
      continue;
    }
    if (errno == EMFILE || errno == ENFILE) {
      // Out of descriptors: take the waiting connection with the reserved one and close it,
      // so the client learns at once and the backlog does not fill with the dead.
      if (spare_ >= 0) ::close(spare_);
      const int refused = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (refused >= 0) ::close(refused);
      spare_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (refused_.fetch_add(1) % 1000 == 0)
        spdlog::warn("serve: out of file descriptors ({}); refusing new connections until some close", std::strerror(errno));
      if (spare_ < 0) ::poll(nullptr, 0, 10);  // not even the reserve came back: do not spin
      continue;
    }
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
      spdlog::warn("serve: accept failed: {}", std::strerror(errno));
  }
}

}  // namespace leanos::cli
