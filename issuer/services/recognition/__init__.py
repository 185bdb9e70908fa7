"""Recognition across institutions (issue 17): routes and exemption rules an institution
publishes (``catalogue``), the OpenID4VP request for recognition and its answer
(``requests``, ``assessment``), the exam board's case and the award offer (``decisions``),
and re-checking the evidence of awards (``recheck``). See docs/recognition.md."""
