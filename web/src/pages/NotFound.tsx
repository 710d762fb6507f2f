import { usePageTitle } from "../lib/page";
import { Link } from "../lib/router";

export function NotFound() {
  usePageTitle("Not found");
  return (
    <>
      <h1>Page not found</h1>
      <p>
        Nothing lives at this address. <Link to="/">Back to the models</Link>.
      </p>
    </>
  );
}
