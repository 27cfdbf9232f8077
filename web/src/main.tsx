import { QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from '@tanstack/react-router';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ServicesProvider } from './hooks/services';
import { createAppServices } from './lib/api/services';
import { createAppRouter } from './router';
import './styles.css';

// The browser's door: the services (session, API, live socket, cache) are made here, once.
const services = createAppServices();
const router = createAppRouter(services);
void services.session.start();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ServicesProvider services={services}>
      <QueryClientProvider client={services.queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </ServicesProvider>
  </StrictMode>,
);
