/* Linked only into the static build (FORAGE_STATIC).
 *
 * Debian's libpcap.a is built with D-Bus capture support, so it pulls in libdbus-1.a, which
 * calls sd_listen_fds() and sd_is_socket() from libsystemd. Debian ships no libsystemd.a.
 * libdbus calls them only when it was started by systemd socket activation, which forage
 * never is; answering "no sockets were passed" is exactly what libsystemd answers then. */
int sd_listen_fds(int unset_environment) {
  (void)unset_environment;
  return 0;
}

int sd_is_socket(int fd, int family, int type, int listening) {
  (void)fd;
  (void)family;
  (void)type;
  (void)listening;
  return 0;
}
