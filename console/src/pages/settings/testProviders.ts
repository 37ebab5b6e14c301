// The smtp and webhook entries of GET /api/v1/channels/providers, as the server answers them
// (kairos.messaging.reference.provider_schemas), for the Settings page tests.
export const testProviders = [
  {
    "name": "smtp",
    "kind": "email",
    "description": "Any SMTP relay (Postfix, SES, Mailgun…): pipelined, STARTTLS or TLS, AUTH PLAIN/LOGIN",
    "settings_schema": {
      "additionalProperties": false,
      "properties": {
        "host": {
          "description": "The SMTP server (a relay or your provider's)",
          "examples": [
            "smtp.sendgrid.net"
          ],
          "maxLength": 255,
          "minLength": 1,
          "title": "Host",
          "type": "string"
        },
        "port": {
          "default": 587,
          "description": "587 with starttls, 465 with ssl, 25 to a local relay",
          "maximum": 65535,
          "minimum": 1,
          "title": "Port",
          "type": "integer"
        },
        "security": {
          "default": "starttls",
          "description": "starttls: a plain connection upgraded with STARTTLS (port 587); ssl: TLS from the first byte (port 465); none: no TLS at all (a relay on a trusted network)",
          "enum": [
            "starttls",
            "ssl",
            "none"
          ],
          "title": "Security",
          "type": "string"
        },
        "username": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "description": "AUTH user name; null: no AUTH",
          "examples": [
            "apikey"
          ],
          "title": "Username"
        },
        "from_email": {
          "description": "The sender address (From)",
          "examples": [
            "news@shop.example"
          ],
          "title": "From Email",
          "type": "string"
        },
        "from_name": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "description": "The sender's display name",
          "examples": [
            "Shop"
          ],
          "title": "From Name"
        },
        "reply_to": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "description": "Where replies go (Reply-To)",
          "title": "Reply To"
        },
        "helo_name": {
          "anyOf": [
            {
              "pattern": "^[A-Za-z0-9.\\-\\[\\]:]+$",
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "description": "The name sent in EHLO; default: this host's name if it is fully qualified, else its address literal",
          "title": "Helo Name"
        },
        "connections": {
          "default": 2,
          "description": "Connections opened in parallel to the server",
          "maximum": 32,
          "minimum": 1,
          "title": "Connections",
          "type": "integer"
        },
        "verify_tls": {
          "default": true,
          "description": "Check the server's certificate and name",
          "title": "Verify Tls",
          "type": "boolean"
        },
        "ca_pem": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "contentMediaType": "application/x-pem-file",
          "default": null,
          "description": "PEM certificate(s) to trust besides the system store, for a relay behind a private CA",
          "title": "Ca Pem"
        },
        "timeout": {
          "default": 30.0,
          "description": "Seconds to wait for each answer of the server",
          "exclusiveMinimum": 0,
          "maximum": 600,
          "title": "Timeout",
          "type": "number"
        },
        "max_messages_per_connection": {
          "default": 1000,
          "description": "Messages sent over one connection before a new one is opened",
          "minimum": 1,
          "title": "Max Messages Per Connection",
          "type": "integer"
        }
      },
      "required": [
        "host",
        "from_email"
      ],
      "title": "SmtpSettings",
      "type": "object"
    },
    "secrets_schema": {
      "additionalProperties": false,
      "properties": {
        "password": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "description": "AUTH password (or your provider's API key)",
          "title": "Password"
        }
      },
      "title": "SmtpSecrets",
      "type": "object"
    },
    "verify": true
  },
  {
    "name": "webhook",
    "kind": "webhook",
    "description": "Signed JSON POSTs (Standard Webhooks) to a URL",
    "settings_schema": {
      "additionalProperties": false,
      "properties": {
        "url": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "description": "Target of messages that do not name one",
          "title": "Url"
        },
        "headers": {
          "additionalProperties": {
            "type": "string"
          },
          "description": "Static headers added to every request; returned by the API, so put credentials (Authorization, API keys) in the secret `headers` instead",
          "title": "Headers",
          "type": "object"
        },
        "timeout": {
          "anyOf": [
            {
              "exclusiveMinimum": 0,
              "maximum": 60,
              "type": "number"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "description": "Seconds; default: the server's",
          "title": "Timeout"
        }
      },
      "title": "Settings",
      "type": "object"
    },
    "secrets_schema": {
      "additionalProperties": false,
      "properties": {
        "signing_secret": {
          "description": "Standard Webhooks signing secret (whsec_ + base64); generated when not given",
          "title": "Signing Secret",
          "type": "string"
        },
        "headers": {
          "additionalProperties": {
            "type": "string"
          },
          "description": "Secret headers added to every request, e.g. Authorization: Bearer …; never returned (they win over a setting's header of the same name)",
          "title": "Headers",
          "type": "object"
        }
      },
      "title": "Secrets",
      "type": "object"
    },
    "verify": false
  }
];
