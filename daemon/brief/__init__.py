"""The briefing (điểm báo): what the press said in a period, by topic, as Markdown, HTML, DOCX and chat text.

``model`` is the one data model (``Briefing``), built by ``build`` from what ``store.briefs`` reads in
one set of queries; every output is a renderer of it (``markdown``, ``html``, ``docx``, ``chart``, ``chat``),
so a new format never repeats a query. ``periods`` says which period a date or a schedule names (pure);
``make`` writes the files atomically and queues ``briefing.ready``; ``spikes`` finds days a rule was
mentioned far more than usual. Importing the package loads nothing heavy (matplotlib and python-docx are
imported by the renderers that need them).
"""
