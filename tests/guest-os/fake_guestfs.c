/*
 * A shared library named libguestfs.so.0 that has none of libguestfs's
 * functions: put first on LD_LIBRARY_PATH, it makes qsnapfix meet a
 * libguestfs it cannot use, as on a host without libguestfs0, without
 * uninstalling anything.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
int fake_guestfs_marker(void);

int fake_guestfs_marker(void)
{
    return 0;
}
