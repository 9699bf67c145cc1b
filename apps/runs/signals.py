"""Signals other apps listen to, so that runs need not know about them."""

from django.dispatch import Signal

# Sent once, after the transaction that moved a run to a terminal status commits.
# Arguments: ``run`` (the finished Run, as stored).
run_finished = Signal()
