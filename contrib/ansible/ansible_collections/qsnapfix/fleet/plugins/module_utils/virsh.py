# SPDX-License-Identifier: GPL-2.0-or-later
"""virsh, as the collection's modules run it (no libvirt Python binding
needed on the managed hosts: the libvirt helper uses virsh too)."""


class VirshError(Exception):
    pass


class Virsh:
    def __init__(self, module, uri=None, program="virsh"):
        self.module = module
        self.argv = [program, "--quiet"] + (["--connect", uri] if uri else [])

    def __call__(self, *args, ok=False):
        """virsh's standard output; None if it failed and ok is set."""
        rc, out, err = self.module.run_command([*self.argv, *args])
        if rc != 0:
            if ok:
                return None
            raise VirshError(f"virsh {' '.join(args)}: exit {rc}: "
                             f"{err.strip()}")
        return out
