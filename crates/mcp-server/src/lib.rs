//! pipette-mcp: the MCP server over stdio and streamable HTTP.
