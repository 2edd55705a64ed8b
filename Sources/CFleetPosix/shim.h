#ifndef FLEETUP_CFLEETPOSIX_SHIM_H
#define FLEETUP_CFLEETPOSIX_SHIM_H
/* Linux system calls Swift's Glibc module does not import: the reactor's epoll and eventfd. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
