/** The body a new landing page starts from: responsive MJML with the title and the form. */
export const STARTER_MJML = `<mjml>
  <mj-head>
    <mj-attributes>
      <mj-all font-family="-apple-system, 'PingFang SC', 'Microsoft YaHei', 'Segoe UI', Arial, sans-serif" />
    </mj-attributes>
  </mj-head>
  <mj-body background-color="#f5f7fa">
    <mj-section padding="40px 16px 8px">
      <mj-column>
        <mj-text font-size="28px" font-weight="700" color="#1f2937">{{ page.title }}</mj-text>
        <mj-text font-size="16px" line-height="1.6" color="#374151">Tell your visitors what they get.</mj-text>
      </mj-column>
    </mj-section>
    <mj-section padding="8px 16px 40px">
      <mj-column background-color="#ffffff" padding="16px">
        <mj-text font-size="16px" line-height="1.5" color="#1f2937">{{ form }}</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
`;

export const STARTER_HTML = `<!doctype html>
<html>
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{ page.title }}</title>
  </head>
  <body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem;">
    <h1>{{ page.title }}</h1>
    <p>Tell your visitors what they get.</p>
    {{ form }}
  </body>
</html>
`;
