//! PubMed through NCBI E-utilities: esearch (JSON) and efetch (XML, parsed as a stream).
