// A sensor's logsource as the server takes it (hub::NormaliseLogsource): "key=value" parts
// for product, category and service, each value of lowercase letters, digits, '_' and '-'.

export const LOGSOURCE_PART = /^[a-z0-9_-]{0,64}$/;

// "product=windows,service=sysmon" from the three parts (empty ones left out, spaces trimmed).
export function logsourceText(product: string, category: string, service: string): string {
  return [['product', product], ['category', category], ['service', service]]
    .filter(([, value]) => value.trim() !== '')
    .map(([key, value]) => `${key}=${value.trim()}`)
    .join(',');
}
