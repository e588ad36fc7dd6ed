# tests/hurd/: the Hurd's libpager on libmotrace-mach (hurd-trial.sh).
#
#   make hurd-trial HURD_SRC=DIR   builds libihash, libports and libpager
#                                  from DIR unmodified against the staged
#                                  install, and traces a pager on them
#                                  (in $(B)/hurd-trial); t1019 does the
#                                  same when it finds the Hurd's sources.

hurd-trial: all
	@test -n "$(HURD_SRC)" || { echo "make hurd-trial: set HURD_SRC to a tree of the Hurd's sources" >&2; exit 1; }
	rm -rf $(B)/hurd-trial
	B=$(B) MIG=$(MIG) MACHINC=$(MACHINC) tests/hurd/hurd-trial.sh all "$(HURD_SRC)" $(B)/hurd-trial

.PHONY: hurd-trial
