"""Releases and updates: signed bundles, releases side by side, a switch with a health gate.

See docs/updates.md. `bundle` builds and checks the one-file bundle, `layout` is the box's
release folders and links, `install` puts a bundle beside the running release, `apply` runs the
switch and the health gate from the known-good release, `supervisor` runs the three processes
where systemd does not.
"""
