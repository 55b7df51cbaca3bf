"""SPARQL: protocol and negotiation, the query runner, the endpoint (ETag, cache), saved queries."""
