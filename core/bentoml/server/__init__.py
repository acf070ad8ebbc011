"""The API server: one Flask app on waitress, with in-process micro-batching.

Data flows one way: ``http`` reads a request -> the API's input adapter parses
it into a task -> ``dispatcher`` batches tasks -> the API function runs once per
batch -> the output adapter answers each task.  ``runner`` serves the app in
one process or pre-forks worker processes sharing one listening socket.
"""
