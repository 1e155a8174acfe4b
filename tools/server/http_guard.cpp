#include "tools/server/http_guard.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

namespace leanos::cli {

namespace {

// The numeric address and port of one end of a socket: its peer's (getpeername) or its own
// (getsockname). Left as they are when the socket cannot say.
void endpoint(socket_t sock, int (*which)(int, sockaddr*, socklen_t*), std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  char host[NI_MAXHOST], service[NI_MAXSERV];
  if (which(sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
      ::getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, service, sizeof service, NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(service);
  }
}

// A connection's socket as cpp-httplib's request processing reads and writes it: reads
// buffered, each wait bounded, and every request read whole within kRequestSeconds of its
// first byte, so that a client dribbling its headers (slowloris) is cut off.
class GuardedStream final : public httplib::Stream {
 public:
  GuardedStream(socket_t sock, std::string ip, int port) : sock_(sock), ip_(std::move(ip)), port_(port) {}

  // A new request begins: its read deadline starts at its first byte.
  void next_request() { deadline_.reset(); }
  // Whether a request arrives within `seconds` (keep-alive), or the client has gone.
  bool request_arrives(int seconds) {
    if (begin_ < end_) return true;
    return wait(POLLIN, seconds * 1000) > 0;
  }

  bool is_readable() const override { return begin_ < end_ || wait(POLLIN, kReadTimeoutSeconds * 1000) > 0; }
  bool is_writable() const override { return wait(POLLOUT, kWriteTimeoutSeconds * 1000) > 0; }
  ssize_t read(char* ptr, std::size_t size) override {
    if (begin_ == end_) {
      const auto now = std::chrono::steady_clock::now();
      if (!deadline_) deadline_ = now + std::chrono::seconds(kRequestSeconds);
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_ - now).count();
      if (left <= 0 || wait(POLLIN, static_cast<int>(std::min<long long>(left, kReadTimeoutSeconds * 1000))) <= 0) return -1;
      const ssize_t n = ::recv(sock_, buffer_, sizeof buffer_, 0);
      if (n <= 0) return n;
      begin_ = 0;
      end_ = static_cast<std::size_t>(n);
    }
    const std::size_t n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_ + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, std::size_t size) override {
    if (!is_writable()) return -1;
    return ::send(sock_, ptr, size, MSG_NOSIGNAL);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = ip_;
    port = port_;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip.clear();
    port = 0;
    endpoint(sock_, ::getsockname, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  static constexpr int kWriteTimeoutSeconds = 5;
  static constexpr int kRequestSeconds = 10;
  int wait(short events, int millis) const {
    pollfd p{sock_, events, 0};
    for (;;) {
      const int r = ::poll(&p, 1, millis);
      if (r < 0 && errno == EINTR) continue;
      return r > 0 && (p.revents & (events | POLLHUP | POLLERR)) ? ((p.revents & events) ? 1 : -1) : r;
    }
  }
  socket_t sock_;
  std::string ip_;
  int port_;
  char buffer_[4096];
  std::size_t begin_ = 0, end_ = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

}  // namespace

bool GuardedServer::process_and_close_socket(socket_t sock) {
  std::string client = "?";
  int port = 0;
  endpoint(sock, ::getpeername, client, port);
  bool ret = false;
  if (connections.take(client, kMaxConnectionsPerClient)) {
    GuardedStream strm(sock, client, port);
    for (int count = kKeepAliveRequests; count > 0 && svr_sock_ != INVALID_SOCKET && strm.request_arrives(kKeepAliveSeconds); --count) {
      strm.next_request();
      bool closed = false;
      ret = process_request(strm, count == 1, closed, nullptr);
      if (!ret || closed) break;
    }
    connections.give_back(client);
  } else {
    static const std::string busy = [] {
      const std::string body =
          "{\"error\":{\"code\":\"RESOURCE_EXHAUSTED\",\"message\":\"this client has too many connections open (" +
          std::to_string(kMaxConnectionsPerClient) + "); close some or retry later\"}}\n";
      return "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 5\r\nConnection: close\r\n"
             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    [[maybe_unused]] const auto sent = ::send(sock, busy.data(), busy.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ret;
}

}  // namespace leanos::cli
