/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scope-bound cleanup. Declare and initialise on one line:
 *	cleanup_free char *buf = NULL;
 *	cleanup_close int fd = -1;
 * and hand ownership off explicitly with steal_ptr()/steal_fd().
 */
#ifndef IGN_CLEANUP_H
#define IGN_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void ign_cleanup_free(void *p)
{
	free(*(void **)p);
}

static inline void ign_cleanup_close(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void ign_cleanup_fclose(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define cleanup_free   __attribute__((cleanup(ign_cleanup_free)))
#define cleanup_close  __attribute__((cleanup(ign_cleanup_close)))
#define cleanup_fclose __attribute__((cleanup(ign_cleanup_fclose)))

static inline void *steal_ptr_impl(void **p)
{
	void *v = *p;
	*p = NULL;
	return v;
}
#define steal_ptr(pp) steal_ptr_impl((void **)(pp))

static inline int steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

#endif
