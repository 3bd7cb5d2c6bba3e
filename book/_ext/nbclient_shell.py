"""nbclient's Output-widget mimic, fixed so that it cannot stall a notebook's execution.

The stall (jupyter/nbclient#312, open; nbclient 0.10-0.11 with jupyter_client 8
and pyzmq 25-27): while nbclient awaits a cell's ``execute_reply`` with a poll
on the shell socket (``zmq.asyncio``), its iopub task handles the cell's
outputs, and the Output-widget mimic sends a ``comm_msg`` on that same shell
socket through ``Session.send``, which sends with a *blocking* shadow of the
asyncio socket. When the kernel's reply has just reached the socket, that
send makes ZeroMQ process the socket's pending commands, and the socket's
file descriptor, which signals readiness by edge, stops being readable; the
blocking shadow bypasses pyzmq's asyncio layer, which would otherwise look
for the waiting message after a send. Nothing wakes the poll, which ends only
at its timeout (the 600 s cell timeout of the tests and the build) and then
finds the reply there. Seen here as a lag of exactly the timeout between the
reply's kernel timestamp and its receipt, at cells that print into an
Output widget; made certain by delaying the mimic's send by 0.5 s
(``tests/test_notebooks.py``).

The fix sends the widget's message with the asyncio socket's own
``send_multipart``, whose bookkeeping re-checks the socket for a waiting
message after every send and wakes the poll.

:class:`OutputWidget` replaces nbclient's in a client's ``widget_registry``;
:func:`install` makes it nbclient's default in this process (the book build,
where jupyter-cache creates the clients).
"""

import nbclient.client
from nbclient.jsonutil import json_clean
from nbclient.output_widget import OutputWidget as _NbclientOutputWidget


class OutputWidget(_NbclientOutputWidget):
    """nbclient's Output-widget mimic, sending its comm messages through the asyncio shell socket."""

    def _publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        kc = self.kernel_client
        content = json_clean(dict(data={} if data is None else data, comm_id=self.comm_id, **keys))
        msg = kc.session.msg(msg_type, content=content, parent=self.parent_header,
                             metadata={} if metadata is None else metadata)
        # zmq.asyncio's own send (not Session.send's blocking shadow): after sending, it looks for a
        # message that arrived meanwhile and wakes the poll waiting for it
        kc.shell_channel.socket.send_multipart(kc.session.serialize(msg))


def install():
    """Make :class:`OutputWidget` the Output-widget mimic of every NotebookClient created from now on."""
    nbclient.client.OutputWidget = OutputWidget
