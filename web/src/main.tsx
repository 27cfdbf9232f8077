import { QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from '@tanstack/react-router';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ServicesProvider } from './hooks/services';
import { ThemeProvider } from './hooks/use-theme';
import { createAppServices } from './lib/api/services';
import { browserThemeDeps, createThemeController } from './lib/theme';
import { createAppRouter } from './router';
import './styles.css';

// Light or dark before anything is drawn (the system's setting, or the one chosen in this browser).
const theme = createThemeController(browserThemeDeps());
// The browser's door: the services (session, API, live socket, cache) are made here, once.
const services = createAppServices();
const router = createAppRouter(services);
void services.session.start();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ThemeProvider theme={theme}>
      <ServicesProvider services={services}>
        <QueryClientProvider client={services.queryClient}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      </ServicesProvider>
    </ThemeProvider>
  </StrictMode>,
);
