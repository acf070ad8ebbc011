"""The team repository: a YataiService server and the client that makes it the repository.

``bentoml yatai-service-start`` serves one server-side
:class:`~bentoml.repository.local_repository.LocalRepository` (SQLite and files
by default) over HTTP/JSON (:mod:`bentoml.yatai.protocol`, described by
OpenAPI at ``/docs.json``); :class:`bentoml.yatai.client.RemoteRepository`
implements the :class:`~bentoml.repository.Repository` interface over it, and
``bentoml.repository.get_repository()`` returns one when
``yatai_service.url`` is configured.

Modules: ``protocol`` (paths, JSON records, limits), ``sessions`` (upload
sessions: open, stream files with their sha256, commit, expire),
``checksums`` (bundle checksums the server answers downloads with),
``api`` (the Flask routes), ``ui`` (the plain page on ``--ui-port``),
``service`` (start-up, the serving loop on the hardened waitress server),
``transport`` (the client's HTTP), ``client`` (``RemoteRepository``).
"""
