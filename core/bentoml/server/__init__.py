"""The API server: one Flask app on waitress, with in-process micro-batching.

Data flows one way, each step in a module named for it: ``request`` reads a
request from the WSGI environ -> the API's input adapter parses it into a task
-> ``dispatcher`` batches tasks (``api_handler`` runs one call through these
steps) -> the API function runs once per batch -> the output adapter splits the
results -> ``response`` builds each answer, errors included.  ``app`` is the
WSGI app (``routes`` lists the server's own routes, ``readiness`` says whether
it should get traffic, ``access_log`` writes a line per request off the
request thread), ``config`` its settings.

``runner`` serves a bundle in one process or through ``master``, which
pre-forks worker processes (``worker``, on ``waitress_server``) over one port
(``sockets``), each pinned to its share of the CPUs (``cpu_affinity``);
``metrics`` are summed over the workers.
"""
